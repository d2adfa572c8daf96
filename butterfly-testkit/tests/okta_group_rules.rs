//! The fake Okta org enforces what real Okta enforces on group rules: `PUT` only on an
//! `INACTIVE` rule and never on its actions, a rule naming a deleted group turns `INVALID` and
//! can then only be read or deleted, names are unique.

use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
use reqwest::Method;
use serde_json::{Value, json};

async fn fake() -> FakeOkta {
    FakeOkta::start(
        OktaOrgSpec {
            users: 150,
            seed: 21,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .unwrap()
}

/// Sends one request with the SSWS token; the status and the JSON body (`Null` when empty).
async fn call(fake: &FakeOkta, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", fake.base_url()))
        .header("authorization", format!("SSWS {}", fake.api_token()));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
}

fn rule(fake: &FakeOkta, id: &str) -> Value {
    fake.items("/api/v1/groups/rules")
        .into_iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("rule {id} is gone"))
}

fn active_rule(fake: &FakeOkta) -> Value {
    fake.items("/api/v1/groups/rules")
        .into_iter()
        .find(|r| r["status"] == "ACTIVE")
        .unwrap()
}

fn assert_validation_failed(response: &(u16, Value), field: &str) {
    let (status, body) = response;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["errorCode"], "E0000001", "{body}");
    assert_eq!(
        body["errorSummary"],
        format!("Api validation failed: {field}"),
        "{body}"
    );
    assert!(body["errorCauses"][0]["errorSummary"].is_string(), "{body}");
}

#[tokio::test]
async fn a_put_on_an_active_rule_or_on_its_actions_is_refused() {
    let fake = fake().await;
    let original = active_rule(&fake);
    let id = original["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/groups/rules/{id}");
    let mut renamed = original.clone();
    renamed["name"] = json!("Renamed rule");
    renamed["conditions"]["expression"]["value"] = json!("user.department==\"Legal\"");

    // ACTIVE: refused, nothing changes.
    let refused = call(&fake, Method::PUT, &path, Some(renamed.clone())).await;
    assert_validation_failed(&refused, "status");
    assert_eq!(rule(&fake, &id), original);

    let deactivated = call(
        &fake,
        Method::POST,
        &format!("{path}/lifecycle/deactivate"),
        None,
    )
    .await;
    assert_eq!(deactivated.0, 204, "lifecycle calls answer 204 No Content");
    assert_eq!(rule(&fake, &id)["status"], "INACTIVE");

    // INACTIVE, other actions: refused.
    let other_group = fake
        .items("/api/v1/groups")
        .into_iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .find(|g| original["actions"]["assignUserToGroups"]["groupIds"][0] != g.as_str())
        .unwrap();
    let mut other_actions = renamed.clone();
    other_actions["actions"]["assignUserToGroups"]["groupIds"] = json!([other_group]);
    let refused = call(&fake, Method::PUT, &path, Some(other_actions)).await;
    assert_validation_failed(&refused, "actions");
    assert_eq!(rule(&fake, &id)["name"], original["name"]);

    // INACTIVE, same actions: the name and conditions change; the body's status does not.
    let mut asks_active = renamed.clone();
    asks_active["status"] = json!("ACTIVE");
    let (status, body) = call(&fake, Method::PUT, &path, Some(asks_active)).await;
    assert_eq!(status, 200, "{body}");
    let stored = rule(&fake, &id);
    assert_eq!(stored["name"], "Renamed rule");
    assert_eq!(stored["conditions"], renamed["conditions"]);
    assert_eq!(
        stored["status"], "INACTIVE",
        "status moves only through lifecycle"
    );

    let activated = call(
        &fake,
        Method::POST,
        &format!("{path}/lifecycle/activate"),
        None,
    )
    .await;
    assert_eq!(activated.0, 204);
    assert_eq!(rule(&fake, &id)["status"], "ACTIVE");
}

#[tokio::test]
async fn a_rule_naming_a_deleted_group_turns_invalid_and_can_only_be_read_or_deleted() {
    let fake = fake().await;
    let original = active_rule(&fake);
    let id = original["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/groups/rules/{id}");
    let group = original["actions"]["assignUserToGroups"]["groupIds"][0]
        .as_str()
        .unwrap()
        .to_string();
    let untouched: Vec<Value> = fake
        .items("/api/v1/groups/rules")
        .into_iter()
        .filter(|r| !r.to_string().contains(&group))
        .collect();
    assert!(!untouched.is_empty());

    let deleted = call(
        &fake,
        Method::DELETE,
        &format!("/api/v1/groups/{group}"),
        None,
    )
    .await;
    assert_eq!(deleted.0, 204);
    let invalid = rule(&fake, &id);
    assert_eq!(invalid["status"], "INVALID");
    assert_eq!(invalid["allGroupsValid"], false);
    assert_eq!(
        invalid["actions"], original["actions"],
        "the rule keeps the deleted group's id"
    );
    for other in &untouched {
        assert_eq!(&rule(&fake, other["id"].as_str().unwrap()), other);
    }
    let (status, read) = call(&fake, Method::GET, &path, None).await;
    assert_eq!((status, &read["status"]), (200, &json!("INVALID")));

    for action in ["activate", "deactivate"] {
        let refused = call(
            &fake,
            Method::POST,
            &format!("{path}/lifecycle/{action}"),
            None,
        )
        .await;
        assert_validation_failed(&refused, "updateRuleStatus");
        assert_eq!(
            refused.1["errorCauses"][0]["errorSummary"],
            "Cannot activate or deactivate a Group Rule with the status INVALID."
        );
    }
    let refused = call(&fake, Method::PUT, &path, Some(original.clone())).await;
    assert_validation_failed(&refused, "status");
    assert_eq!(rule(&fake, &id)["status"], "INVALID");

    let (status, body) = call(&fake, Method::DELETE, &path, None).await;
    assert_eq!(
        (status, body),
        (202, json!({})),
        "as recorded: 202 Accepted, {{}}"
    );
    assert!(
        fake.items("/api/v1/groups/rules")
            .iter()
            .all(|r| r["id"] != id.as_str())
    );
}

#[tokio::test]
async fn rule_names_are_unique_and_new_rules_are_inactive() {
    let fake = fake().await;
    let existing = active_rule(&fake);
    let mut copy = json!({"type": "group_rule", "name": existing["name"], "conditions": existing["conditions"], "actions": existing["actions"]});
    let refused = call(
        &fake,
        Method::POST,
        "/api/v1/groups/rules",
        Some(copy.clone()),
    )
    .await;
    assert_validation_failed(&refused, "name");
    assert_eq!(
        refused.1["errorCauses"][0]["errorSummary"],
        "name: Policy rule name already in use"
    );

    copy["name"] = json!("Another rule");
    let (status, created) = call(&fake, Method::POST, "/api/v1/groups/rules", Some(copy)).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["status"], "INACTIVE");

    // A rename onto a name in use is refused too.
    let id = created["id"].as_str().unwrap();
    let mut renamed = created.clone();
    renamed["name"] = existing["name"].clone();
    let refused = call(
        &fake,
        Method::PUT,
        &format!("/api/v1/groups/rules/{id}"),
        Some(renamed),
    )
    .await;
    assert_validation_failed(&refused, "name");
}
