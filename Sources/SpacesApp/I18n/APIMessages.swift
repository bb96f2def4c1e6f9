import SocketIO

/// API error messages in the visitor's language. English messages are written where the error is raised; the
/// other languages translate by the stable `code` (templates take `{name}` values from the error's extra fields).
enum APIMessages {
    static func localized(_ error: APIError, _ language: Language) -> APIError {
        guard language == .chinese else { return error }
        guard let template = self.chinese[error.code] else {
            // Field checks (`invalid_max_workers` and the like) name the field and its range in the message.
            guard error.code.hasPrefix("invalid_") else { return error }
            var translated = error
            translated.message = "输入无效：" + error.message
            return translated
        }
        var message = template
        for (key, value) in error.extra {
            let text = value.intValue.map(String.init) ?? value.stringValue ?? ""
            message = message.replacingOccurrences(of: "{\(key)}", with: text)
        }
        var translated = error
        translated.message = message
        return translated
    }

    static let chinese: [String: String] = [
        "bad_request": "请求无效",
        "cannot_demote_self": "不能取消自己的管理员身份",
        "conflict": "请求与当前状态冲突",
        "cross_origin_request": "拒绝跨站请求",
        "duplicate_name": "已有同名的远程工作端空间；空间名称必须唯一",
        "empty_request": "没有可提交的内容：请填写提示词或选择文件",
        "file_too_large": "文件超过了此空间的大小限制",
        "forbidden": "没有权限执行此操作",
        "input_not_enabled": "此空间不接受这种输入",
        "internal": "服务器内部错误",
        "invalid_audio_url": "音频链接必须是 http 或 https 地址",
        "invalid_card_type": "空间类型只能是“standard”或“websockets”",
        "invalid_cover_image": "封面必须是图片",
        "invalid_credentials": "用户名或密码错误",
        "invalid_daily_quota": "每日限额必须是整数，0 表示不限",
        "invalid_input": "输入无效",
        "invalid_name": "空间需要一个不超过 200 个字符的名称",
        "invalid_space_id": "space_id 必须是数字",
        "method_not_allowed": "不支持此请求方法",
        "missing_file": "缺少文件",
        "missing_request_id": "缺少 request_id",
        "no_worker": "此空间当前没有已连接的工作端",
        "not_cancelable": "该请求已结束，无法取消",
        "not_found": "未找到",
        "not_logged_in": "请先登录",
        "not_websockets_space": "此空间不接受请求",
        "prompt_too_long": "提示词过长",
        "queue_full": "此空间的队列已满，请稍后再试",
        "quota_exceeded": "已达到每日 {quota} 次请求的限额，请明天再试",
        "rate_limited": "请等待 {retry_after} 秒后再提交",
        "request_not_found": "未找到该请求",
        "request_not_processing": "该请求不在处理中",
        "space_not_found": "未找到该空间",
        "storage_error": "无法保存文件",
        "storage_full": "服务器存储空间已满，请稍后再试",
        "too_large": "请求体过大",
        "unavailable": "服务暂时不可用",
        "unsupported_media_type": "不支持的内容类型",
        "user_not_found": "未找到该用户",
        "username_taken": "该用户名已被使用",
    ]
}
