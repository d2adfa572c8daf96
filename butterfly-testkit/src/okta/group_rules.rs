//! Group rules as Okta enforces them, beyond plain collection storage.
//!
//! Evidence, from the fixtures and Okta's public record:
//! - Spec 2026.06.3, `POST /api/v1/groups/rules`: rules are created `INACTIVE`;
//!   `PUT /api/v1/groups/rules/{id}`: "You can only update rules with a group whose status is
//!   set to INACTIVE" and "You currently can't update the actions section";
//!   `GroupRuleStatus`: `ACTIVE`, `INACTIVE`, `INVALID`, and the status changes only through
//!   `lifecycle/activate|deactivate`, which answer 204.
//! - Cassette `test_groups_it/TestGroupsResource.test_group_rule_operations`: deactivate, `PUT`,
//!   activate on one rule (204, 200, 204); `DELETE` of a rule answers 202 with `{}`.
//! - A rule naming a deleted group turns `INVALID` with `allGroupsValid: false` and can then
//!   only be read or deleted; activating or deactivating it fails with `E0000001`
//!   "Api validation failed: updateRuleStatus", cause "Cannot activate or deactivate a Group
//!   Rule with the status INVALID." (okta/terraform-provider-okta issues 16 and 157, PR 250).
//! - Rule names are unique: a create with a name in use fails with `E0000001`
//!   "Api validation failed: name", cause "name: Policy rule name already in use"
//!   (okta/okta-sdk-java issue 645).

use serde_json::{Value, json};

use super::okta_error;
use crate::fake::FakeResponse;

/// The collection path of group rules.
pub(super) const PATH: &str = "/api/v1/groups/rules";

/// Okta's `E0000001` with one cause, as the recorded validation errors carry them.
fn validation_failed(field: &str, cause: &str) -> FakeResponse {
    let mut response = okta_error(400, "E0000001", &format!("Api validation failed: {field}"));
    if let Some(body) = response.body.as_mut() {
        body["errorCauses"] = json!([{ "errorSummary": cause }]);
    }
    response
}

fn name_in_use(rules: &[Value], name: &str, except: Option<&str>) -> bool {
    rules
        .iter()
        .any(|r| r["name"] == name && except.is_none_or(|id| r["id"] != id))
}

/// Refuses a create whose name another rule holds; `None`: the create goes ahead.
pub(super) fn refuse_create(rules: &[Value], body: &Value) -> Option<FakeResponse> {
    let name = body["name"].as_str().unwrap_or_default();
    name_in_use(rules, name, None)
        .then(|| validation_failed("name", "name: Policy rule name already in use"))
}

/// Sets what Okta sets on a created rule.
pub(super) fn created(body: &mut Value) {
    body["status"] = json!("INACTIVE");
    if let Some(map) = body.as_object_mut() {
        map.remove("allGroupsValid");
    }
}

/// `POST …/lifecycle/activate|deactivate` on a rule.
pub(super) fn lifecycle(rule: &mut Value, action: &str) -> Option<FakeResponse> {
    let status = match action {
        "activate" => "ACTIVE",
        "deactivate" => "INACTIVE",
        _ => return None,
    };
    if rule["status"] == "INVALID" {
        return Some(validation_failed(
            "updateRuleStatus",
            "Cannot activate or deactivate a Group Rule with the status INVALID.",
        ));
    }
    rule["status"] = json!(status);
    Some(FakeResponse::no_content())
}

/// The actions with their group ids in order: Okta keeps them as a set.
fn normalized_actions(rule: &Value) -> Value {
    let mut actions = rule.get("actions").cloned().unwrap_or(Value::Null);
    if let Some(Value::Array(ids)) = actions.pointer_mut("/assignUserToGroups/groupIds") {
        ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        ids.dedup();
    }
    actions
}

/// `PUT /api/v1/groups/rules/{id}`: only an `INACTIVE` rule, never its actions.
///
/// No recorded response shows these refusals; they use Okta's documented `E0000001`
/// "Api validation failed: {0}" shape (the spec's `ErrorApiValidationFailed` example) with
/// the field concerned and a cause saying why.
pub(super) fn replace(rules: &mut [Value], pos: usize, body: Value) -> FakeResponse {
    let current = &rules[pos];
    match current["status"].as_str() {
        Some("INVALID") => {
            return validation_failed(
                "status",
                "A group rule with the status INVALID can only be read or deleted.",
            );
        }
        Some("ACTIVE") => {
            return validation_failed(
                "status",
                "You can only update rules whose status is INACTIVE: deactivate the rule first.",
            );
        }
        _ => {}
    }
    if normalized_actions(&body) != normalized_actions(current) {
        return validation_failed("actions", "The actions of a group rule cannot be updated.");
    }
    let Value::Object(mut map) = body else {
        return okta_error(400, "E0000003", "The request body was not well-formed.");
    };
    let id = current["id"].as_str().unwrap_or_default().to_string();
    if name_in_use(
        rules,
        map.get("name").and_then(Value::as_str).unwrap_or(""),
        Some(&id),
    ) {
        return validation_failed("name", "name: Policy rule name already in use");
    }
    let current = &rules[pos];
    // The status moves only through the lifecycle operations; id, created and type are Okta's.
    for keep in ["id", "created", "type", "status"] {
        if let Some(v) = current.get(keep) {
            map.insert(keep.to_string(), v.clone());
        }
    }
    map.remove("allGroupsValid");
    map.remove("_embedded");
    map.insert("lastUpdated".into(), json!("2026-11-24T00:00:00.000Z"));
    rules[pos] = Value::Object(map);
    FakeResponse::ok(rules[pos].clone())
}

/// `DELETE /api/v1/groups/rules/{id}` answers 202 with `{}`, as recorded.
pub(super) fn deleted() -> FakeResponse {
    FakeResponse::status(202, json!({}))
}

/// Whether a rule names `group_id`: in its actions, its excluded groups or its expression
/// (`isMemberOfGroup("00g…")`, `isMemberOfAnyGroup(…)`).
fn names_group(rule: &Value, group_id: &str) -> bool {
    let listed = |pointer: &str| {
        rule.pointer(pointer)
            .and_then(Value::as_array)
            .is_some_and(|ids| ids.iter().any(|g| g == group_id))
    };
    listed("/actions/assignUserToGroups/groupIds")
        || listed("/conditions/people/groups/exclude")
        || rule
            .pointer("/conditions/expression/value")
            .and_then(Value::as_str)
            .is_some_and(|e| e.contains(&format!("\"{group_id}\"")))
}

/// A group was deleted: every rule naming it turns `INVALID`, keeping the old id.
pub(super) fn group_deleted(rules: &mut [Value], group_id: &str) {
    for rule in rules.iter_mut().filter(|r| names_group(r, group_id)) {
        rule["status"] = json!("INVALID");
        rule["allGroupsValid"] = json!(false);
    }
}
