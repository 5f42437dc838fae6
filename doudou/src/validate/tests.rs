//! Validation: failures named by path, lists checked element by element, rules in the document.

use super::*;
#[cfg(feature = "validate")]
use crate::error::Error;

#[cfg(feature = "validate")]
#[test]
fn every_failure_is_named_by_its_path() {
    let mut report = Report::new();
    report.length("name", "", (Some(1), Some(64), None), None);
    report.length("name", "ok", (Some(1), Some(64), None), None);
    report.range("age", &200_u8, (Some(13.0), Some(150.0)), None);
    report.range("ratio", &f64::NAN, (Some(0.0), None), None);
    report.email("email", "not-an-address", None);
    report.email("email2", "a@example.com", None);
    report.url("site", &Some("example.com".to_owned()), None);
    report.required::<u8>("nick", &None, Some("give a nickname"));
    report.path.push_str("address");
    report.pattern("zip", "1234", &Pattern::new("^[0-9]{5}$"), None);
    report.contains("city", "Paris", "x", None);
    let error = report.into_failures().map(Error::invalid_fields).expect("failures");
    assert_eq!(error.status().as_u16(), 400);
    let fields: Vec<(&str, &str)> = error.fields().iter().map(|(k, v)| (k.as_str(), v[0].as_str())).collect();
    assert_eq!(
        fields,
        [
            ("address.city", "must contain \"x\""),
            ("address.zip", "must match ^[0-9]{5}$"),
            ("age", "must be between 13 and 150 (it is 200)"),
            ("email", "must be an e-mail address"),
            ("name", "length must be between 1 and 64 (it is 0)"),
            ("nick", "give a nickname"),
            ("ratio", "must be at least 0 (it is NaN)"),
            ("site", "must be an absolute URL"),
        ]
    );
    assert!(error.message().contains("name: length must be between 1 and 64"), "{}", error.message());
}

#[cfg(feature = "validate")]
#[test]
fn absent_values_and_empty_reports_pass() {
    let mut report = Report::new();
    report.length("a", &None::<String>, (Some(1), None, None), None);
    report.range("b", &None::<u8>, (Some(1.0), None), None);
    report.email("c", &None::<String>, None);
    report.length("d", &vec![1, 2, 3], (None, None, Some(3)), None);
    assert!(report.into_failures().map(Error::invalid_fields).is_none());
}

#[cfg(feature = "validate")]
#[test]
fn each_element_of_a_list_is_checked_under_its_index() {
    let mut report = Report::new();
    report.email("to", &vec!["a@example.com".to_owned(), "nope".to_owned()], None);
    report.range("n", &vec![1_u32, 20], (None, Some(10.0)), None);
    let error = report.into_failures().map(Error::invalid_fields).expect("failures");
    let keys: Vec<&str> = error.fields().keys().map(String::as_str).collect();
    assert_eq!(keys, ["n[1]", "to[1]"]);
}

#[test]
fn rules_are_stated_in_a_parameters_schema() {
    let mut required = false;
    let mut schema = json!({ "type": "integer", "format": "uint32", "minimum": 0 });
    Rule::Range { min: Some(1.0), max: Some(100.0) }.apply(&mut schema, &mut required);
    assert_eq!(schema, json!({ "type": "integer", "format": "uint32", "minimum": 1, "maximum": 100 }));
    let mut list = json!({ "type": "array", "items": { "type": "string" } });
    Rule::Length { min: Some(1), max: None }.apply(&mut list, &mut required);
    Rule::Email.apply(&mut list, &mut required);
    Rule::Required.apply(&mut list, &mut required);
    assert_eq!(
        list,
        json!({ "type": "array", "minItems": 1, "items": { "type": "string", "format": "email" } })
    );
    assert!(required);
}

#[test]
fn a_contains_rule_is_a_literal_pattern_in_the_schema() {
    let mut schema = serde_json::json!({ "type": "string" });
    let mut required = true;
    Rule::Contains("a.b+(c)").apply(&mut schema, &mut required);
    assert_eq!(schema["pattern"], r"a\.b\+\(c\)");
}
