use super::description;

#[test]
fn placeholder_compiles() {
    assert!(description().contains("openapi"));
}
