//! Money and percentages: decimal strings outside, integer minor units inside.
//!
//! Amounts are parsed from strings such as `"49.90"` in an ISO 4217 currency and kept as
//! a `u64` count of the currency's minor unit (cents for USD, yen for JPY, fils for
//! KWD). No floating point is involved anywhere. Percentages are decimal strings too
//! (`"7.5"`), with at most four decimals, between 0 and 100.
//!
//! ```
//! use affiliate_sdk::{Money, Percent};
//! let price = Money::parse("49.90", "USD")?;
//! assert_eq!(price.minor(), 4990);
//! assert_eq!(price.to_string(), "49.90");
//! assert_eq!(Money::parse("1000", "JPY")?.minor(), 1000);
//! assert_eq!(Money::parse("1.5", "JPY").unwrap_err().code(), "malformed");
//!
//! // 7.5% of 49.90 is 3.7425, rounded half away from zero to 3.74.
//! assert_eq!(Percent::parse("7.5")?.of(price).to_string(), "3.74");
//! # Ok::<(), affiliate_sdk::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::error::MoneyError;
use crate::error::{Error, Result};

/// An active ISO 4217 currency, with its exponent (digits after the decimal point).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Looks up an upper-case ISO 4217 code (`"USD"`). Codes without a minor unit
    /// (gold, `XXX`) and unknown codes are refused.
    pub fn new(code: &str) -> Result<Currency> {
        let unknown = || {
            let shown: String = code.chars().take(8).collect();
            Error::Money(MoneyError::UnknownCurrency(shown))
        };
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(unknown());
        }
        let c = iso_currency::Currency::from_code(code).ok_or_else(unknown)?;
        match c.exponent() {
            Some(e) if e <= 4 => Ok(Currency(c)),
            _ => Err(unknown()),
        }
    }

    /// The three-letter code.
    #[must_use]
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point: USD 2, JPY 0, KWD 3.
    #[must_use]
    pub fn exponent(self) -> u8 {
        // `new` admits only currencies with an exponent of at most 4.
        self.0
            .exponent()
            .map_or(0, |e| u8::try_from(e).unwrap_or(0))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Currency> {
        Currency::new(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Currency, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Currency::new(&s).map_err(serde::de::Error::custom)
    }
}

/// The largest amount, in major units of its currency (1,000,000,000.00 dollars), that
/// one conversion, refund or adjustment may carry ([`Money::parse_bounded`]): far
/// below what the ledger's sums hold, so no total of them overflows.
pub const MAX_AMOUNT: u64 = 1_000_000_000;

/// A non-negative amount in integer minor units of a currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: u64,
    currency: Currency,
}

impl Money {
    /// Parses a decimal string in `currency`: digits, optionally a point and at most
    /// as many decimals as the currency has (`"49.9"` and `"49.90"` are both 4990
    /// cents). No sign, exponent, spaces or thousands separators.
    pub fn parse(amount: &str, currency: &str) -> Result<Money> {
        let currency = Currency::new(currency)?;
        let minor = parse_decimal(amount, currency.exponent()).map_err(|e| match e {
            DecimalError::Scale => MoneyError::TooManyDecimals {
                currency: currency.code(),
                max: currency.exponent(),
            },
            DecimalError::Syntax => MoneyError::Syntax,
            DecimalError::Negative => MoneyError::Negative,
            DecimalError::Overflow => MoneyError::Overflow,
        })?;
        Ok(Money { minor, currency })
    }

    /// [`Money::parse`], then refused unless at most [`MAX_AMOUNT`] major units: the
    /// bound of one conversion's amount, a refund and an adjustment (`malformed`, in
    /// `field`).
    pub fn parse_bounded(amount: &str, currency: &str, field: &'static str) -> Result<Money> {
        let m = Money::parse(amount, currency)?;
        let max = 10u64
            .checked_pow(u32::from(m.currency.exponent()))
            .and_then(|unit| unit.checked_mul(MAX_AMOUNT));
        if max.is_none_or(|max| m.minor > max) {
            return Err(Error::malformed(
                field,
                format!(
                    "at most {MAX_AMOUNT} (the largest amount one conversion, refund or adjustment may carry)"
                ),
            ));
        }
        Ok(m)
    }

    /// An amount of `minor` units of `currency`.
    #[must_use]
    pub fn from_minor(minor: u64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Zero in `currency`.
    #[must_use]
    pub fn zero(currency: Currency) -> Money {
        Money::from_minor(0, currency)
    }

    /// The amount in minor units.
    #[must_use]
    pub fn minor(self) -> u64 {
        self.minor
    }

    /// The currency.
    #[must_use]
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// The sum, refusing other currencies and overflow.
    pub fn checked_add(self, other: Money) -> Result<Money> {
        if self.currency != other.currency {
            return Err(
                MoneyError::CurrencyMismatch(self.currency.code(), other.currency.code()).into(),
            );
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }
}

impl fmt::Display for Money {
    /// The decimal amount without the currency, with exactly the currency's decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_minor(
            u128::from(self.minor),
            self.currency.exponent(),
        ))
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} {}", self.currency)
    }
}

/// Formats `minor` units with `exponent` decimals: `format_minor(4990, 2) == "49.90"`.
/// Totals in reports may exceed one `u64`, hence `u128`.
#[must_use]
pub fn format_minor(minor: u128, exponent: u8) -> String {
    let digits = minor.to_string();
    let e = usize::from(exponent);
    if e == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = e + 1);
    let (int, frac) = padded.split_at(padded.len() - e);
    format!("{int}.{frac}")
}

/// A percentage between 0 and 100 with at most four decimals, kept exactly.
///
/// ```
/// use affiliate_sdk::Percent;
/// assert_eq!(Percent::parse("12.5")?.to_string(), "12.5");
/// assert!(Percent::parse("100.01").is_err());
/// assert!(Percent::parse("-1").is_err());
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Percent(u32);

/// Ten-thousandths of a percent per percent.
const PERCENT_SCALE: u32 = 10_000;

impl Percent {
    /// Parses `"10"`, `"7.5"`, `"0.0125"`: 0 to 100, at most 4 decimals.
    pub fn parse(s: &str) -> Result<Percent> {
        let units = parse_decimal(s, 4).map_err(|_| MoneyError::Percent)?;
        if units > u64::from(100 * PERCENT_SCALE) {
            return Err(MoneyError::Percent.into());
        }
        Ok(Percent(
            u32::try_from(units).map_err(|_| MoneyError::Percent)?,
        ))
    }

    /// Zero percent.
    pub const ZERO: Percent = Percent(0);

    /// This share of `amount`, rounded half away from zero to the minor unit.
    #[must_use]
    pub fn of(self, amount: Money) -> Money {
        Money {
            minor: self.of_minor(amount.minor),
            currency: amount.currency,
        }
    }

    /// This share of `minor` units, rounded half away from zero.
    #[must_use]
    pub fn of_minor(self, minor: u64) -> u64 {
        let den = u128::from(100 * PERCENT_SCALE);
        let num = u128::from(minor) * u128::from(self.0);
        // At most 100 %, so the result never exceeds `minor`.
        u64::try_from((num + den / 2) / den).unwrap_or(minor)
    }

    /// Whether this is 0 %.
    #[must_use]
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = format_minor(u128::from(self.0), 4);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        f.write_str(s)
    }
}

impl fmt::Debug for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}%")
    }
}

impl FromStr for Percent {
    type Err = Error;
    fn from_str(s: &str) -> Result<Percent> {
        Percent::parse(s)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Percent, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Percent::parse(&s).map_err(serde::de::Error::custom)
    }
}

enum DecimalError {
    Syntax,
    Negative,
    Scale,
    Overflow,
}

/// `"49.90"` with `scale` 2 → 4990. Strict: ASCII digits, one optional point with
/// digits on both sides, at most `scale` decimals, at most 40 characters.
fn parse_decimal(s: &str, scale: u8) -> std::result::Result<u64, DecimalError> {
    if s.starts_with('-') {
        return Err(DecimalError::Negative);
    }
    if s.is_empty() || s.len() > 40 {
        return Err(DecimalError::Syntax);
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) if !f.is_empty() => (i, f),
        Some(_) => return Err(DecimalError::Syntax),
        None => (s, ""),
    };
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(DecimalError::Syntax);
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(scale) {
        return Err(DecimalError::Scale);
    }
    let mut n: u64 = 0;
    let digits = int
        .bytes()
        .chain(frac.bytes())
        .chain(std::iter::repeat_n(b'0', usize::from(scale) - frac.len()));
    for d in digits {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or(DecimalError::Overflow)?;
    }
    Ok(n)
}
