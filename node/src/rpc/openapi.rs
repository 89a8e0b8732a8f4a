//! `GET /v1/openapi.json`: the OpenAPI 3 description of this API. A test keeps it in step with the router:
//! every route is described with its method, and nothing else is.

use axum::http::header;
use axum::response::IntoResponse;

const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::DOCUMENT;
    use std::collections::BTreeSet;

    /// `(path, method)` of every `.route("…", get(…))` / `post(…)` in the router's source.
    fn routed() -> BTreeSet<(String, String)> {
        let source = include_str!("mod.rs");
        let mut routes = BTreeSet::new();
        for line in source.lines().map(str::trim).filter(|l| l.starts_with(".route(\"")) {
            let rest = &line[".route(\"".len()..];
            let (path, rest) = rest.split_once('"').expect("route path is a string literal");
            let method = rest.trim_start_matches([',', ' ']).split('(').next().expect("a method router");
            routes.insert((path.to_owned(), method.to_owned()));
        }
        routes
    }

    #[test]
    fn the_document_describes_exactly_the_routes_the_router_serves() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("openapi.json is JSON");
        assert_eq!(doc["openapi"], "3.0.3");
        let mut described = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                described.insert((path.clone(), method.clone()));
            }
        }
        let routed = routed();
        assert!(routed.len() >= 18, "the router source was read: {routed:?}");
        assert_eq!(described, routed, "openapi.json and the router disagree");
    }

    #[test]
    fn every_reference_resolves_and_every_operation_has_an_id_and_a_success_response() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let text = DOCUMENT.to_owned();
        for reference in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "unresolved reference to {name}");
        }
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
                assert!(ids.insert(id.to_owned()), "operationId {id} used twice");
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.keys().any(|c| c.starts_with('2')), "{method} {path} has no 2xx response");
                assert!(responses.contains_key("429"), "{method} {path} does not mention the rate limit");
            }
        }
    }
}
