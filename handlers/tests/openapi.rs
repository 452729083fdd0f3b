//! The router and `openapi.yaml` agree: every route in one is in the other,
//! and the documented query parameters are exactly the accepted ones.

use handlers::api::Route;
use serde_yaml::Value;
use std::collections::BTreeSet;

fn spec() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml")).unwrap();
    serde_yaml::from_str(&text).expect("openapi.yaml is valid YAML")
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

#[test]
fn every_route_is_in_the_spec_and_every_operation_is_a_route() {
    let spec = spec();
    assert_eq!(
        spec["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        for (method, _) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if METHODS.contains(&method) {
                documented.insert((method.to_uppercase(), path.as_str().unwrap().to_owned()));
            }
        }
    }
    let routed: BTreeSet<(String, String)> = Route::ALL
        .iter()
        .map(|r| {
            let (m, p) = r.method_and_path();
            (m.to_owned(), p.to_owned())
        })
        .collect();
    assert_eq!(documented, routed);
}

#[test]
fn documented_list_parameters_are_exactly_the_accepted_ones() {
    let spec = spec();
    let names: Vec<String> = spec["paths"]["/events"]["get"]["parameters"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    let sample = |name: &str| match name {
        "from" | "to" => "2026-11-25T00:00:00Z",
        "account" => "111122223333",
        "region" => "eu-west-1",
        "source" => "aws.guardduty",
        "severity" => "high,critical",
        "status" => "open",
        "limit" => "10",
        other => panic!("documented parameter {other} has no sample here"),
    };
    for name in names.iter().filter(|n| *n != "cursor") {
        let pairs = vec![(name.clone(), sample(name).to_owned())];
        assert!(
            handlers::api::event_query(pairs).is_ok(),
            "documented parameter {name} is refused"
        );
    }
    assert!(names.contains(&"cursor".to_owned()));
    // Anything not documented is refused.
    let undocumented = vec![("colour".to_owned(), "blue".to_owned())];
    assert!(handlers::api::event_query(undocumented).is_err());
    assert_eq!(names.len(), 9);
}

#[test]
fn every_error_code_of_the_contract_is_documented() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml")).unwrap();
    for code in [
        "bad_request",
        "not_found",
        "conflict",
        "precondition_failed",
        "internal",
    ] {
        assert!(text.contains(code), "{code}");
    }
}

#[test]
fn enums_and_list_patterns_name_exactly_the_domain_values() {
    use domain::model::{Severity, Status};
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let enum_of = |name: &str| -> Vec<String> {
        schemas[name]["enum"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let severities: Vec<String> = Severity::ALL.iter().map(|s| s.to_string()).collect();
    let statuses: Vec<String> = Status::ALL.iter().map(|s| s.to_string()).collect();
    assert_eq!(enum_of("Severity"), severities);
    assert_eq!(enum_of("Status"), statuses);
    // `severity` and `status` of GET /events: comma-separated, no spaces.
    let list = |values: &[String]| {
        let one = values.join("|");
        format!("^({one})(,({one}))*$")
    };
    let params = spec["paths"]["/events"]["get"]["parameters"]
        .as_sequence()
        .unwrap();
    let pattern = |name: &str| {
        params
            .iter()
            .find(|p| p["name"].as_str() == Some(name))
            .unwrap()["schema"]["pattern"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(pattern("severity"), list(&severities));
    assert_eq!(pattern("status"), list(&statuses));
}

#[test]
fn every_status_the_router_can_answer_is_documented() {
    let spec = spec();
    for route in Route::ALL {
        let (method, path) = route.method_and_path();
        let mut expected = vec!["200", "413", "500"];
        expected.extend(match route {
            Route::ListEvents | Route::ListAgents => &["400"][..],
            Route::GetEvent | Route::GetAgent => &["404"],
            Route::EventActivity => &["400", "404"],
            Route::Overview => &["400"],
            Route::UpdateEvent => &["400", "404", "412"],
            Route::UpdateAgent => &["400", "404"],
        });
        let responses = spec["paths"][path][method.to_lowercase()]["responses"]
            .as_mapping()
            .unwrap();
        let mut documented: Vec<&str> = responses.keys().map(|k| k.as_str().unwrap()).collect();
        documented.sort_unstable();
        expected.sort_unstable();
        assert_eq!(documented, expected, "{method} {path}");
    }
}
