//! The JSON merge patch (RFC 7396) the API's `PATCH` applies.

/// Applies a JSON merge patch (RFC 7396) to `target`: each member of `patch` replaces
/// the target's, `null` removes it, objects merge member by member. A patch that is not
/// an object replaces the whole target.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in members {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}
