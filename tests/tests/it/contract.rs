//! The API contract of issue 18 over real HTTP: `#[validate]` rules checked before the
//! handler and stated in the document, and `#[doudou::error]` variants answered with their
//! status, code and data, and read back by the generated client.

use doudou_tests::{bin, get, raw, start, Proc};
use helloworld::{Address, Helloworld, HelloworldClient, NewUser, UserError};
use serde_json::{json, Value};

use crate::manage::get_auth;

fn helloworld() -> Proc {
    start(&bin("helloworld"), &[], None).expect("helloworld starts")
}

fn post_json(svc: &Proc, path: &str, body: &Value) -> doudou_tests::Response {
    raw(svc.addr, "POST", path, &[("Content-Type", "application/json")], body.to_string().as_bytes())
}

fn valid_user() -> Value {
    json!({
        "name": "Ann",
        "email": "ann@example.org",
        "age": 30,
        "address": { "zip": "75001", "city": "Paris" },
        "website": "https://ann.example.org/"
    })
}

#[test]
fn a_model_breaking_its_rules_is_answered_400_naming_every_bad_field_at_once() {
    let svc = helloworld();
    let bad = json!({
        "name": "",
        "email": "not-an-address",
        "age": 200,
        "address": { "zip": "750", "city": "Paris" },
        "website": "example.org"
    });
    let r = post_json(&svc, "/users", &bad);
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    let body = r.json();
    assert_eq!(body["code"], 400);
    let fields = body["fields"].as_object().expect("fields");
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(names, ["address.zip", "age", "email", "name", "website"], "{body}");
    assert_eq!(fields["name"], json!(["length must be between 1 and 64 (it is 0)"]));
    assert_eq!(fields["age"], json!(["must be between 13 and 150 (it is 200)"]));
    assert_eq!(fields["address.zip"], json!(["must match ^[0-9]{5}$"]));
    for name in names {
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains(name)),
            "the message names {name}: {body}"
        );
    }

    let ok = post_json(&svc, "/users", &valid_user());
    assert_eq!(ok.status, 201, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(ok.json()["name"], "Ann");
    // The website is optional: absent, it is not checked.
    let mut no_site = valid_user();
    no_site.as_object_mut().expect("object").remove("website");
    no_site["email"] = json!("bo@example.org");
    let created = post_json(&svc, "/users", &no_site);
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    // What was created can be found, and its address is taken.
    let id = created.json()["id"].as_u64().expect("id");
    assert_eq!(created.header("location"), Some(format!("/users/{id}").as_str()), "201 says where");
    assert_eq!(get(svc.addr, &format!("/users/{id}")).json()["email"], "bo@example.org");
    let again = post_json(&svc, "/users", &no_site);
    assert_eq!((again.status, again.json()["data"]["existing_id"].as_u64()), (409, Some(id)));
}

#[test]
fn a_parameters_rule_is_checked_and_named() {
    let svc = helloworld();
    let r = get(svc.addr, "/greet?name=Bo&times=0");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["fields"], json!({ "times": ["must be between 1 and 10 (it is 0)"] }));
    assert_eq!(get(svc.addr, "/greet?name=Bo&times=10").status, 200);
}

#[test]
fn business_errors_are_answered_with_their_status_code_and_data() {
    let svc = helloworld();
    let r = get(svc.addr, "/users/0");
    assert_eq!(r.status, 404);
    assert_eq!(r.json(), json!({ "code": 40401, "message": "no such user" }));
    let mut taken = valid_user();
    taken["email"] = json!("user-7@example.com");
    let r = post_json(&svc, "/users", &taken);
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({ "code": 40901, "message": "the e-mail address is user 7's", "data": { "existing_id": 7 } })
    );
    assert_eq!(get(svc.addr, "/users/7").json()["id"], 7);
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        name: "Ann".into(),
        email: email.into(),
        age: 30,
        address: Address { zip: "75001".into(), city: "Paris".into() },
        website: None,
    }
}

#[tokio::test]
async fn the_client_gets_the_variant_back() {
    let svc = helloworld();
    let client = HelloworldClient::new(svc.base_url());
    assert_eq!(client.find_user(0).await, Err(UserError::NotFound));
    assert_eq!(
        client.create_user(new_user("user-7@example.com")).await,
        Err(UserError::Conflict { existing_id: 7 })
    );
    assert_eq!(
        client.create_user(new_user("ann@example.org")).await.expect("created").value().email,
        "ann@example.org"
    );
    // The server's validation, not the client's: the client sends what it is given.
    match client.create_user(new_user("nope")).await {
        Err(UserError::Other(e)) => {
            assert_eq!(e.status().as_u16(), 400);
            assert_eq!(e.fields().keys().collect::<Vec<_>>(), ["email"]);
        }
        other => panic!("expected the other variant with the 400: {other:?}"),
    }
    // A transport failure is the other variant too.
    let nowhere = HelloworldClient::new(format!("http://127.0.0.1:{}", doudou_tests::free_port()));
    assert!(matches!(nowhere.find_user(1).await, Err(UserError::Other(_))));
}

#[test]
fn the_document_states_the_rules_and_the_business_errors() {
    let svc = helloworld();
    let doc: Value = get_auth(&svc, "/go-doudou/openapi.json", "admin", "admin").json();
    let schemas = &doc["components"]["schemas"];
    let new_user = &schemas["NewUser"]["properties"];
    assert_eq!((&new_user["name"]["minLength"], &new_user["name"]["maxLength"]), (&json!(1), &json!(64)));
    assert_eq!(new_user["email"]["format"], "email");
    assert_eq!(new_user["website"]["format"], "uri");
    assert_eq!(new_user["age"]["minimum"].as_f64(), Some(13.0));
    assert_eq!(new_user["age"]["maximum"].as_f64(), Some(150.0));
    assert_eq!(schemas["Address"]["properties"]["zip"]["pattern"], "^[0-9]{5}$");

    let times = doc["paths"]["/greet"]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "times"))
        .expect("times");
    assert_eq!((&times["schema"]["minimum"], &times["schema"]["maximum"]), (&json!(1), &json!(10)));

    let find = &doc["paths"]["/users/{id}"]["get"]["responses"];
    assert_eq!(
        find["404"]["content"]["application/json"]["schema"]["properties"]["code"]["enum"],
        json!([40401])
    );
    let create = &doc["paths"]["/users"]["post"]["responses"];
    let conflict = &create["409"]["content"]["application/json"]["schema"];
    assert_eq!(conflict["properties"]["code"]["enum"], json!([40901]));
    assert_eq!(conflict["properties"]["data"]["required"], json!(["existing_id"]));
    assert!(create.get("201").is_some() && create.get("400").is_some(), "{create}");
}
