/// The log-in and register forms, and the error page.
enum AccountPages {
    static func login(_ page: PageContext, next: String?, username: String = "", error: String?) -> String {
        let action = next.map { "/login?next=\(HTML.escape(HTML.percentEncode($0)))" } ?? "/login"
        var body = "<div class=\"narrow-page\"><h1>\(page.h(.logIn))</h1>"
        if let user = page.user {
            body += "<p class=\"notice\">\(page.h(.alreadyLoggedIn, ["name": user.username]))</p>"
        }
        body += HTML.errorBox(error)
        body += """
            <form method="post" action="\(action)" id="login-form">
            \(HTML.input("username", page.t(.username), value: username, attributes: "required autocomplete=\"username\" autocapitalize=\"none\"\(username.isEmpty ? " autofocus" : "")"))
            \(HTML.input("password", page.t(.password), type: "password", attributes: "required autocomplete=\"current-password\"\(username.isEmpty ? "" : " autofocus")"))
            <div class="actions"><button type="submit">\(page.h(.logIn))</button></div></form>
            <p class="muted">\(page.h(.noAccount)) <a href="/register">\(page.h(.register))</a></p></div>
            """
        return body
    }

    static func register(_ page: PageContext, username: String = "", error: String?) -> String {
        """
        <div class="narrow-page"><h1>\(page.h(.register))</h1>\(HTML.errorBox(error))
        <form method="post" action="/register" id="register-form">
        \(HTML.input("username", page.t(.username), value: username, hint: page.t(.usernameRules), attributes: "required maxlength=\"64\" autocomplete=\"username\" autocapitalize=\"none\" autofocus"))
        \(HTML.input("password", page.t(.password), type: "password", hint: page.t(.passwordRules), attributes: "required minlength=\"4\" autocomplete=\"new-password\""))
        <div class="actions"><button type="submit">\(page.h(.createAccount))</button></div></form>
        <p class="muted">\(page.h(.haveAccount)) <a href="/login">\(page.h(.logIn))</a></p></div>
        """
    }

    static func error(_ page: PageContext, status: Int, message: String) -> String {
        """
        <div class="narrow-page"><h1>\(HTML.escape(page.t(.errorTitle, ["status": String(status)])))</h1>
        <p class="error" role="alert">\(HTML.escape(message))</p>
        <p><a href="/">\(page.h(.backToSpaces))</a></p></div>
        """
    }
}
