//! The formats the API checks, one OpenAPI schema each, referenced wherever they stand
//! (`value_type` of an answer's or a request's member). Only described: the core
//! checks them with [`Code`](crate::Code), [`Sid`](crate::Sid), [`Money`](crate::Money)
//! and their parsers.

#![allow(dead_code)] // Described, never built (`Serialize` only so requests that name them take
// serde attributes).

use utoipa::ToSchema;

/// A campaign, partner, ad or coupon code: 1 to 64 of `[A-Za-z0-9_-]`.
#[derive(ToSchema, serde::Serialize)]
#[schema(as = Code, value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "haircare")]
pub struct CodeText(String);

/// A partner's sub-id: 1 to 64 of `[A-Za-z0-9._~-]`.
#[derive(ToSchema, serde::Serialize)]
#[schema(value_type = String, pattern = "^[A-Za-z0-9._~-]{1,64}$", example = "kw1")]
pub struct Sid(String);

/// An order or customer id: 1 to 128 printable ASCII characters without spaces, quotes
/// or backslashes.
#[derive(ToSchema, serde::Serialize)]
#[schema(value_type = String, pattern = "^[!#-\\[\\]-~]{1,128}$", example = "A-1001")]
pub struct Id(String);

/// An amount of money: a decimal string in the currency's minor units at most.
#[derive(ToSchema, serde::Serialize)]
#[schema(value_type = String, pattern = "^[0-9]{1,12}(\\.[0-9]{1,4})?$", example = "49.90")]
pub struct Amount(String);

/// An ISO 4217 currency code the server knows.
#[derive(ToSchema, serde::Serialize)]
#[schema(value_type = String, pattern = "^[A-Z]{3}$", example = "USD")]
pub struct Currency(String);

/// A UTC day, `YYYY-MM-DD`, from 1970.
#[derive(ToSchema, serde::Serialize)]
#[schema(
    value_type = String,
    pattern = "^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$",
    example = "2026-11-30"
)]
pub struct Day(String);

/// An absolute `http` or `https` URL.
#[derive(ToSchema, serde::Serialize)]
#[schema(value_type = String, pattern = "^https?://[^\\s]+$", example = "https://shop.example/p/42")]
pub struct HttpUrl(String);

/// `sale`, `lead`, or a named action (`signup`, `trial`: reported and paid as a lead).
#[derive(ToSchema, serde::Serialize)]
#[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "sale")]
pub struct Kind(String);
