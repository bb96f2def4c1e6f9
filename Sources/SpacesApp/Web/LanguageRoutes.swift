import EngineIO
import HTTPKit

/// `/lang/<code>?next=<path>`: the language switch; the choice sticks in a cookie and wins over Accept-Language.
enum LanguageRoutes {
    static func install(on router: Router) {
        router.get("/lang/:code") { context in
            guard let language = context.params["code"].flatMap(Language.parse) else {
                return APIError(404, "not_found", "unknown language").response
            }
            var response = HTTPResponse.redirect(to: AccountRoutes.safeNext(context) ?? "/")
            response.setCookie(language.cookie)
            return response
        }
    }
}
