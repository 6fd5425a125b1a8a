//! The requests that report a refund: the merchant API's ([`RefundRequest`]), and a
//! server postback that reports a refund instead of a sale ([`PostbackRefund`], one
//! of the two a [`Postback`] may be).

use serde::{Deserialize, Serialize};

use super::requests::ConversionRequest;

/// A refund of part or all of an order (`POST /v1/conversions/{order_id}/refunds`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "A refund of part or all of an order; an unknown member is refused.")
)]
pub struct RefundRequest {
    /// The merchant's id of the refund (its payment system's): a refund reported again
    /// under it is a replay.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Id))]
    pub refund_id: String,
    /// The amount refunded, in the order's currency: more than 0, at most what remains.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Amount))]
    pub amount: String,
}

impl RefundRequest {
    /// A refund `refund_id` of `amount`.
    #[must_use]
    pub fn new(refund_id: &str, amount: &str) -> RefundRequest {
        RefundRequest {
            refund_id: refund_id.into(),
            amount: amount.into(),
        }
    }
}

/// A server postback reporting a refund: the order, the refund's id and amount.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        description = "A server postback reporting a refund of an order recorded before (a body with `refund_id`); an unknown member is refused."
    )
)]
pub struct PostbackRefund {
    /// The order refunded.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Id))]
    pub order_id: String,
    /// The merchant's id of the refund.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Id))]
    pub refund_id: String,
    /// The amount refunded, in the order's currency.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Amount))]
    pub refund_amount: String,
}

/// What a server postback reports: a conversion, or (a body with `refund_id`) a refund
/// of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Postback {
    /// A conversion to attribute and record.
    Conversion(ConversionRequest),
    /// A refund of an order recorded before.
    Refund(PostbackRefund),
}

impl<'de> Deserialize<'de> for Postback {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Postback, D::Error> {
        use serde::de::Error as _;
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let refund = map.contains_key("refund_id");
        let value = serde_json::Value::Object(map);
        if refund {
            PostbackRefund::deserialize(value)
                .map(Postback::Refund)
                .map_err(D::Error::custom)
        } else {
            ConversionRequest::deserialize(value)
                .map(Postback::Conversion)
                .map_err(D::Error::custom)
        }
    }
}

/// One of the two bodies, as OpenAPI's `oneOf`.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Postback {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{OneOfBuilder, Ref};
        OneOfBuilder::new()
            .item(Ref::from_schema_name("PostbackRequest"))
            .item(Ref::from_schema_name("PostbackRefund"))
            .description(Some(
                "A conversion (the order and its evidence) or, with `refund_id`, a refund of an order recorded before.",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Postback {
    fn name() -> std::borrow::Cow<'static, str> {
        "Postback".into()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema as _;
        schemas.push(("PostbackRequest".into(), ConversionRequest::schema()));
        schemas.push(("PostbackRefund".into(), PostbackRefund::schema()));
        <ConversionRequest as utoipa::ToSchema>::schemas(schemas);
        <PostbackRefund as utoipa::ToSchema>::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_with_refund_id_is_a_refund_and_each_refuses_unknown_members() {
        let p: Postback =
            serde_json::from_str(r#"{"order_id":"A-1","refund_id":"R-1","refund_amount":"30.00"}"#)
                .unwrap();
        assert!(matches!(p, Postback::Refund(r) if r.refund_amount == "30.00"));
        let p: Postback =
            serde_json::from_str(r#"{"order_id":"A-1","amount":"30.00","currency":"USD"}"#)
                .unwrap();
        assert!(matches!(p, Postback::Conversion(c) if c.kind == "sale"));
        for bad in [
            r#"{"order_id":"A-1","refund_id":"R-1","refund_amount":"3","currency":"USD"}"#,
            r#"{"order_id":"A-1","refund_id":"R-1"}"#,
            r#"{"order_id":"A-1","amount":"3","currency":"USD","refund":"x"}"#,
            r#"[1]"#,
        ] {
            assert!(serde_json::from_str::<Postback>(bad).is_err(), "{bad}");
        }
    }
}
