import Foundation
import TasteGraphServer
import TasteGraphServing
import Testing

/// The hand-written OpenAPI document, checked route by route against the server: every documented
/// operation exists and every route is documented; each status a case produces is one the document lists
/// for that operation; each body has the required keys of the documented schema.
///
/// Hand-written rather than generated (swift-openapi-generator): a dozen routes did not justify the build
/// plugin, OpenAPIKit and Yams in every build of the server; this test is what keeps the two in step.
@Suite struct OpenAPIDocumentTests {
    typealias JSON = [String: Any]

    static var document: JSON { (try? JSONSerialization.jsonObject(with: Data(TasteGraphHTTPServer.openAPIDocument))) as? JSON ?? [:] }

    /// One request and the status it must get.
    struct Case: Sendable, CustomStringConvertible {
        let method: String
        let template: String
        let path: String
        let body: String?
        let token: Bool
        let status: Int
        var description: String { "\(method) \(path) → \(status)" }
    }

    static let listen = #"{"event_id":"d1","user":"u1","item":"i1","plays":1,"at":"2026-12-01T10:00:00Z"}"#

    /// Filled with the fixture's first user, item and artist at run time (`USER`, `ITEM`, `ARTIST`).
    static let cases: [Case] = [
        Case(method: "get", template: "/healthz", path: "/healthz", body: nil, token: false, status: 200),
        Case(method: "get", template: "/readyz", path: "/readyz", body: nil, token: false, status: 200),
        Case(method: "get", template: "/metrics", path: "/metrics", body: nil, token: false, status: 200),
        Case(method: "get", template: "/openapi.json", path: "/openapi.json", body: nil, token: false, status: 200),
        Case(method: "get", template: "/v1/users/{user}/recommendations", path: "/v1/users/USER/recommendations?k=5", body: nil, token: false, status: 200),
        Case(method: "get", template: "/v1/users/{user}/recommendations", path: "/v1/users/USER/recommendations?k=0", body: nil, token: false, status: 422),
        Case(method: "get", template: "/v1/users/{user}/recommendations", path: "/v1/users/USER/recommendations?exclude_artist=Nobody%20At%20All", body: nil, token: false, status: 404),
        Case(method: "get", template: "/v1/artists/{artist}/related", path: "/v1/artists/ARTIST/related?k=3", body: nil, token: false, status: 200),
        Case(method: "get", template: "/v1/artists/{artist}/related", path: "/v1/artists/Nobody%20At%20All/related", body: nil, token: false, status: 404),
        Case(method: "get", template: "/v1/artists/{artist}/related", path: "/v1/artists/ARTIST/related?k=-1", body: nil, token: false, status: 422),
        Case(method: "get", template: "/v1/items/{item}/similar", path: "/v1/items/ITEM/similar?by=text", body: nil, token: false, status: 200),
        Case(method: "get", template: "/v1/items/{item}/similar", path: "/v1/items/nope/similar", body: nil, token: false, status: 404),
        Case(method: "get", template: "/v1/items/{item}/similar", path: "/v1/items/ITEM/similar?by=x", body: nil, token: false, status: 422),
        Case(method: "get", template: "/v1/users/{user}/segment", path: "/v1/users/USER/segment", body: nil, token: false, status: 200),
        Case(method: "get", template: "/v1/users/{user}/segment", path: "/v1/users/nobody/segment", body: nil, token: false, status: 404),
        Case(method: "post", template: "/v1/listens", path: "/v1/listens", body: #"{"listens":[\#(listen)]}"#, token: true, status: 200),
        Case(method: "post", template: "/v1/listens", path: "/v1/listens", body: #"{"listens":[\#(listen)]}"#, token: false, status: 401),
        Case(method: "post", template: "/v1/listens", path: "/v1/listens", body: "{oops", token: true, status: 400),
        Case(method: "post", template: "/v1/listens", path: "/v1/listens", body: #"{"listens":[{"event_id":"d2"}]}"#, token: true, status: 422),
        Case(method: "post", template: "/v1/listens", path: "/v1/listens", body: #"{"listens":[\#(String(repeating: listen + ",", count: 20_000))\#(listen)]}"#, token: true, status: 413),
        Case(method: "post", template: "/v1/feedback", path: "/v1/feedback", body: #"{"feedback":[{"event_id":"f1","user":"USER","item":"ITEM","kind":"skip","at":"2026-12-01T10:00:00Z"}]}"#, token: true, status: 200),
        Case(method: "post", template: "/v1/feedback", path: "/v1/feedback", body: #"{"feedback":[{"event_id":"f2","user":"USER","item":"nope","kind":"skip","at":"2026-12-01T10:00:00Z"}]}"#, token: true, status: 404),
        Case(method: "post", template: "/v1/feedback", path: "/v1/feedback", body: #"{"feedback":[{"event_id":"f3","user":"USER","item":"ITEM","kind":"meh","at":"2026-12-01T10:00:00Z"}]}"#, token: true, status: 422),
        Case(method: "post", template: "/v1/feedback", path: "/v1/feedback", body: "{}", token: false, status: 401),
        Case(method: "post", template: "/v1/items", path: "/v1/items", body: #"{"items":[{"id":"N1","title":"T","artist":"A"}]}"#, token: true, status: 200),
        Case(method: "post", template: "/v1/items", path: "/v1/items", body: #"{"items":[{"id":"ITEM","title":"T","artist":"A"}]}"#, token: true, status: 409),
        Case(method: "post", template: "/v1/items", path: "/v1/items", body: #"{"items":[{"id":"N2","title":"","artist":"A"}]}"#, token: true, status: 422),
        Case(method: "post", template: "/v1/items", path: "/v1/items", body: "[", token: true, status: 400),
        Case(method: "post", template: "/v1/items", path: "/v1/items", body: "{}", token: false, status: 401),
        Case(method: "post", template: "/v1/admin/reload", path: "/v1/admin/reload", body: "{}", token: true, status: 200),
        Case(method: "post", template: "/v1/admin/reload", path: "/v1/admin/reload", body: #"{"model":"/no/such/model.tgm"}"#, token: true, status: 409),
        Case(method: "post", template: "/v1/admin/reload", path: "/v1/admin/reload", body: "{x", token: true, status: 400),
        Case(method: "post", template: "/v1/admin/reload", path: "/v1/admin/reload", body: #"{"model":5}"#, token: true, status: 422),
        Case(method: "post", template: "/v1/admin/reload", path: "/v1/admin/reload", body: "{}", token: false, status: 401),
        Case(method: "get", template: "/v1/experiments/{name}", path: "/v1/experiments/doc", body: nil, token: false, status: 200),
        Case(method: "get", template: "/v1/experiments/{name}", path: "/v1/experiments/nope", body: nil, token: false, status: 404),
        Case(method: "get", template: "/v1/experiments/{name}", path: "/v1/experiments/doc?window_hours=-1", body: nil, token: false, status: 422),
        Case(method: "get", template: "/v1/experiments/{name}", path: "/v1/experiments/doc?arm=policy", body: nil, token: false, status: 200),
        Case(method: "get", template: "/v1/experiments/{name}", path: "/v1/experiments/doc?arm=nope", body: nil, token: false, status: 422),
        Case(method: "get", template: "/v1/users/{user}/recommendations", path: "/v1/users/USER/recommendations?at=yesterday", body: nil, token: false, status: 422),
        Case(method: "get", template: "/v1/users/{user}/recommendations", path: "/v1/users/USER/recommendations?k=5&diversity=0.5", body: nil, token: false, status: 200),
        Case(method: "get", template: "/v1/users/{user}/recommendations", path: "/v1/users/USER/recommendations?diversity=2.0", body: nil, token: false, status: 422),
        // The fixture's store has no timestamped plays: the session routes answer 409 (their 200s: SessionRoutesTests).
        Case(method: "post", template: "/v1/sessions/next", path: "/v1/sessions/next", body: #"{"items":["ITEM"]}"#, token: false, status: 409),
        Case(method: "post", template: "/v1/sessions/next", path: "/v1/sessions/next", body: "{oops", token: false, status: 400),
        Case(method: "post", template: "/v1/playlists/continue", path: "/v1/playlists/continue", body: #"{"items":["ITEM"]}"#, token: false, status: 409),
        Case(method: "post", template: "/v1/playlists/continue", path: "/v1/playlists/continue", body: #"{"items":[]}"#, token: false, status: 422),
    ]

    /// Every case runs under this experiment, so recommendations carry `experiment` and a policy's `route`.
    static let experiment = ExperimentDefinition(
        name: "doc", salt: "doc", arms: [
            ArmDefinition(name: "model", share: 0.5),
            ArmDefinition(name: "policy", share: 0.5, policy: PolicyDefinition(name: "p", coldStart: .init(minListens: 5))),
        ])

    @Test func everyDocumentedOperationHasACaseAndEveryCaseIsDocumented() {
        let paths = Self.document["paths"] as? JSON ?? [:]
        var documented = Set<String>()
        for (path, operations) in paths {
            for method in (operations as? JSON ?? [:]).keys where ["get", "post", "put", "delete", "patch"].contains(method) {
                documented.insert("\(method) \(path)")
            }
        }
        #expect(Self.document["openapi"] as? String == "3.1.0")
        #expect(documented == Set(Self.cases.map { "\($0.method) \($0.template)" }))
        #expect(documented.count == 15)
    }

    @Test(arguments: cases)
    func theServerAnswersAsDocumented(_ c: Case) async throws {
        let f = try ServerFixture(experiments: [Self.experiment])
        let catalog = f.live.snapshot.recommendations.catalog
        func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "USER", with: catalog.userExternalIDs[0])
                .replacingOccurrences(of: "ITEM", with: catalog.itemExternalIDs[0])
                .replacingOccurrences(of: "ARTIST", with: catalog.artistNames[0].addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        }
        let token = c.token ? ServerFixture.token : nil
        let reply = c.method == "get"
            ? try await f.client.get(fill(c.path))
            : try await f.client.post(fill(c.path), json: fill(c.body ?? ""), token: token)
        #expect(reply.status == c.status, "\(c): \(reply.text.prefix(300))")
        let operation = ((Self.document["paths"] as? JSON)?[c.template] as? JSON)?[c.method] as? JSON ?? [:]
        let responses = operation["responses"] as? JSON ?? [:]
        #expect(responses[String(reply.status)] != nil, "\(c): status \(reply.status) is not in the document")
        guard c.template != "/metrics", let schema = Self.schema(of: responses[String(reply.status)] as? JSON) else { return }
        let required = schema["required"] as? [String] ?? []
        let body = reply.json
        #expect(required.allSatisfy { body[$0] != nil }, "\(c): body \(reply.text.prefix(200)) lacks one of \(required)")
    }

    /// The JSON schema of a response, with a `$ref` resolved.
    static func schema(of response: JSON?) -> JSON? {
        guard let content = response?["content"] as? JSON, let json = content["application/json"] as? JSON,
              var schema = json["schema"] as? JSON else { return nil }
        if let ref = schema["$ref"] as? String, let name = ref.split(separator: "/").last {
            schema = ((document["components"] as? JSON)?["schemas"] as? JSON)?[String(name)] as? JSON ?? [:]
        }
        return schema
    }
}
