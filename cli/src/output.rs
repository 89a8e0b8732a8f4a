//! Text or JSON output. JSON mode prints exactly one JSON document on stdout (errors too, on stderr).

use serde::Serialize;

pub fn print<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).expect("output values always serialise"));
    } else {
        println!("{}", text());
    }
}

pub fn error(json: bool, e: &anyhow::Error) {
    if json {
        let code = e.downcast_ref::<consort_sdk::ClientError>().and_then(|c| c.code()).unwrap_or("error");
        let body = serde_json::json!({ "error": { "code": code, "message": format!("{e:#}") } });
        eprintln!("{body}");
    } else {
        eprintln!("error: {e:#}");
    }
}
