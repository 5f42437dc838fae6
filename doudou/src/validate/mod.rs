//! Validation of what a request binds, before the handler runs.
//!
//! The rules are the `validator` crate's attributes, written on the fields of a
//! `#[doudou::model]` (`#[validate(length(min = 1, max = 64))]`) or on a method's parameters.
//! The macros turn each rule into one call on a [`Report`], which collects every failure under
//! the field's JSON path (`address.zip`, `items[0].name`) or the parameter's name; a request
//! with failures is answered 400 with all of them (see [`Error::invalid_fields`](crate::Error::invalid_fields)). A type or
//! parameter without rules checks nothing: its validation is an empty function.
//!
//! The same attributes state the constraints in the OpenAPI document: schemars reads them on
//! model fields, and [`Rule`]s carry them for parameters.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::{Display, Write};
#[cfg(feature = "validate")]
use std::sync::OnceLock;

#[cfg(feature = "validate")]
use regex::Regex;
use serde_json::{json, Value};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The failures found in one request.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Report {
    /// The JSON path of the value being checked, empty at the top.
    path: String,
    fields: BTreeMap<String, Vec<String>>,
}

impl Report {
    /// Nothing checked yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The failures found, by field, if any (answered with
    /// [`Error::invalid_fields`](crate::Error::invalid_fields)).
    pub(crate) fn into_failures(self) -> Option<BTreeMap<String, Vec<String>>> {
        (!self.fields.is_empty()).then_some(self.fields)
    }

    /// Records that `field` of the current value fails with `problem`.
    pub fn fail(&mut self, field: &str, problem: impl Into<String>) {
        self.fail_at(field, None, problem.into());
    }

    /// The same for the `index`th element of a list `field`.
    fn fail_at(&mut self, field: &str, index: Option<usize>, problem: String) {
        let mut key = if self.path.is_empty() { field.to_owned() } else { format!("{}.{field}", self.path) };
        if let Some(i) = index {
            let _ = write!(key, "[{i}]");
        }
        self.fields.entry(key).or_default().push(problem);
    }

    /// Checks the model in `field` of the current value with its own rules.
    pub fn nested<M: Model>(&mut self, field: &str, value: &M) {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(field);
        value.validate(self);
        self.path.truncate(len);
    }

    /// Checks the `index`th element of the current value (a list).
    pub(crate) fn element<M: Model>(&mut self, index: usize, value: &M) {
        let len = self.path.len();
        let _ = write!(self.path, "[{index}]");
        value.validate(self);
        self.path.truncate(len);
    }

    /// `length(min, max)` or `length(equal)`: characters of a string, elements of a list or map.
    pub fn length<V: HasLength + ?Sized>(
        &mut self,
        field: &str,
        value: &V,
        bounds: (Option<u64>, Option<u64>, Option<u64>),
        message: Option<&str>,
    ) {
        let Some(len) = value.length() else { return };
        let (min, max, equal) = bounds;
        let problem = match (equal, min, max) {
            (Some(n), _, _) if len != n => format!("length must be exactly {n}"),
            (None, Some(lo), Some(hi)) if len < lo || len > hi => {
                format!("length must be between {lo} and {hi}")
            }
            (None, Some(lo), None) if len < lo => format!("length must be at least {lo}"),
            (None, None, Some(hi)) if len > hi => format!("length must be at most {hi}"),
            _ => return,
        };
        self.fail(field, message.map_or_else(|| format!("{problem} (it is {len})"), str::to_owned));
    }

    /// An `f32` (of each of a list) that the JSON body gave a number beyond its range, which
    /// became infinity.
    pub fn finite<V: InRange + ?Sized>(&mut self, field: &str, value: &V) {
        value.each_number(&mut |index, n| {
            if !n.is_finite() {
                self.fail_at(
                    field,
                    index,
                    format!("must be a number from {:e} to {:e} (an f32)", f32::MIN, f32::MAX),
                );
            }
        });
    }

    /// `range(min, max)` of a number (of each number of a list); NaN is outside every range.
    pub fn range<V: InRange + ?Sized>(
        &mut self,
        field: &str,
        value: &V,
        bounds: (Option<f64>, Option<f64>),
        message: Option<&str>,
    ) {
        let (min, max) = bounds;
        let problem = match (min, max) {
            (Some(lo), Some(hi)) => format!("must be between {lo} and {hi}"),
            (Some(lo), None) => format!("must be at least {lo}"),
            (_, Some(hi)) => format!("must be at most {hi}"),
            (None, None) => return,
        };
        value.each_number(&mut |index, n| {
            let below = min.is_some_and(|lo| n.is_nan() || n < lo);
            let above = max.is_some_and(|hi| n.is_nan() || n > hi);
            if below || above {
                let said = message.map_or_else(|| format!("{problem} (it is {n})"), str::to_owned);
                self.fail_at(field, index, said);
            }
        });
    }

    /// Fails `field` (or its element) with `problem` wherever its text does not pass `test`.
    fn each_text<V: Text + ?Sized>(
        &mut self,
        field: &str,
        value: &V,
        test: impl Fn(&str) -> bool,
        problem: impl Fn() -> String,
    ) {
        value.each_text(&mut |index, text| {
            if !test(text) {
                self.fail_at(field, index, problem());
            }
        });
    }

    /// `email`: an e-mail address, as the `validator` crate judges it (HTML's rules).
    #[cfg(feature = "validate")]
    pub fn email<V: Text + ?Sized>(&mut self, field: &str, value: &V, message: Option<&str>) {
        let said = || message.unwrap_or("must be an e-mail address").to_owned();
        self.each_text(field, value, |t| validator::ValidateEmail::validate_email(&t), said);
    }

    /// `url`: an absolute URL.
    #[cfg(feature = "validate")]
    pub fn url<V: Text + ?Sized>(&mut self, field: &str, value: &V, message: Option<&str>) {
        let said = || message.unwrap_or("must be an absolute URL").to_owned();
        self.each_text(field, value, |t| validator::ValidateUrl::validate_url(&t), said);
    }

    /// `regex`: matches `regex` somewhere, as JSON Schema's `pattern` does.
    #[cfg(feature = "validate")]
    pub fn regex<V: Text + ?Sized>(&mut self, field: &str, value: &V, regex: &Regex, message: Option<&str>) {
        let said = || message.map_or_else(|| format!("must match {}", regex.as_str()), str::to_owned);
        self.each_text(field, value, |t| regex.is_match(t), said);
    }

    /// `regex(pattern = "...")`: the same with a pattern compiled on first use.
    #[cfg(feature = "validate")]
    pub fn pattern<V: Text + ?Sized>(
        &mut self,
        field: &str,
        value: &V,
        pattern: &Pattern,
        message: Option<&str>,
    ) {
        match pattern.regex() {
            Some(regex) => self.regex(field, value, regex, message),
            // The macro parsed the pattern; only the regex crate's size limit can refuse it.
            None => {
                self.fail(field, format!("cannot be checked: the pattern {} is too large", pattern.source))
            }
        }
    }

    /// Without the `validate` feature an `email`, `url` or `regex(pattern = ...)` rule does not
    /// compile: the value's type is asked for [`NeedsValidateFeature`], which says so (a
    /// `regex(path = ...)` rule fails earlier, on `doudou::Regex`).
    #[cfg(not(feature = "validate"))]
    pub fn email<V: Text + ?Sized + NeedsValidateFeature>(&mut self, _: &str, _: &V, _: Option<&str>) {}

    /// See [`Report::email`].
    #[cfg(not(feature = "validate"))]
    pub fn url<V: Text + ?Sized + NeedsValidateFeature>(&mut self, _: &str, _: &V, _: Option<&str>) {}

    /// See [`Report::email`].
    #[cfg(not(feature = "validate"))]
    pub fn pattern<V: Text + ?Sized + NeedsValidateFeature>(
        &mut self,
        _: &str,
        _: &V,
        _: &Pattern,
        _: Option<&str>,
    ) {
    }

    /// `contains(pattern = "...")`: has `needle` in it.
    pub fn contains<V: Text + ?Sized>(
        &mut self,
        field: &str,
        value: &V,
        needle: &str,
        message: Option<&str>,
    ) {
        let said = || message.map_or_else(|| format!("must contain {needle:?}"), str::to_owned);
        self.each_text(field, value, |t| t.contains(needle), said);
    }

    /// `required`: an `Option` that is `Some`.
    pub fn required<T>(&mut self, field: &str, value: &Option<T>, message: Option<&str>) {
        if value.is_none() {
            self.fail(field, message.unwrap_or("is required"));
        }
    }

    /// `custom(function = "f")`: what `f(&value)` says; its `Err` is the problem.
    pub fn custom<E: Display>(&mut self, field: &str, result: Result<(), E>, message: Option<&str>) {
        if let Err(e) = result {
            self.fail(field, message.map_or_else(|| e.to_string(), str::to_owned));
        }
    }
}

/// What a build without doudou's `validate` feature cannot check.
#[cfg(not(feature = "validate"))]
#[diagnostic::on_unimplemented(
    message = "`email`, `url` and `regex` rules need doudou's `validate` feature",
    label = "this rule cannot be checked in this build",
    note = "enable it: `doudou = {{ ..., features = [\"validate\"] }}` (it is on by default)"
)]
pub trait NeedsValidateFeature {}

/// A `regex(pattern = "...")`, compiled once, on first use.
#[doc(hidden)]
#[derive(Debug)]
pub struct Pattern {
    #[cfg_attr(not(feature = "validate"), allow(dead_code))]
    source: &'static str,
    #[cfg(feature = "validate")]
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// The pattern `source` (a `static`, so each rule compiles once).
    pub const fn new(source: &'static str) -> Self {
        Self {
            source,
            #[cfg(feature = "validate")]
            compiled: OnceLock::new(),
        }
    }

    #[cfg(feature = "validate")]
    fn regex(&self) -> Option<&Regex> {
        self.compiled.get_or_init(|| Regex::new(self.source).ok()).as_ref()
    }
}

/// What has a length: strings (in characters, as JSON Schema counts), lists and maps.
#[doc(hidden)]
pub trait HasLength {
    /// The length, or `None` for an absent value (which no length rule applies to).
    fn length(&self) -> Option<u64>;
}

impl HasLength for str {
    fn length(&self) -> Option<u64> {
        Some(self.chars().count() as u64)
    }
}
impl HasLength for String {
    fn length(&self) -> Option<u64> {
        self.as_str().length()
    }
}
impl<T: HasLength + ?Sized> HasLength for Box<T> {
    fn length(&self) -> Option<u64> {
        (**self).length()
    }
}
impl<T: HasLength> HasLength for Option<T> {
    fn length(&self) -> Option<u64> {
        self.as_ref().and_then(HasLength::length)
    }
}
macro_rules! counted {
    ($($t:ty => [$($g:ident),*]),*) => {$(
        impl<$($g),*> HasLength for $t {
            fn length(&self) -> Option<u64> {
                Some(self.len() as u64)
            }
        }
    )*};
}
counted!(Vec<T> => [T], [T] => [T], HashMap<K, V> => [K, V], BTreeMap<K, V> => [K, V], HashSet<T> => [T], BTreeSet<T> => [T]);

/// What a `range` applies to: numbers, and lists of them (each number is checked).
#[doc(hidden)]
pub trait InRange {
    /// Calls `f` with each number (none for an absent value) and its index in a list.
    fn each_number(&self, f: &mut dyn FnMut(Option<usize>, f64));
}
macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl InRange for $t {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn each_number(&self, f: &mut dyn FnMut(Option<usize>, f64)) {
                f(None, *self as f64);
            }
        }
    )*};
}
numbers!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);
impl<T: InRange> InRange for Option<T> {
    fn each_number(&self, f: &mut dyn FnMut(Option<usize>, f64)) {
        if let Some(value) = self {
            value.each_number(f);
        }
    }
}
impl<T: InRange> InRange for Vec<T> {
    fn each_number(&self, f: &mut dyn FnMut(Option<usize>, f64)) {
        for (index, value) in self.iter().enumerate() {
            value.each_number(&mut |_, n| f(Some(index), n));
        }
    }
}

/// What `email`, `url`, `regex` and `contains` apply to: text, and lists of it (each is
/// checked).
#[doc(hidden)]
pub trait Text {
    /// Calls `f` with each text (none for an absent value) and its index in a list.
    fn each_text(&self, f: &mut dyn FnMut(Option<usize>, &str));
}
impl Text for str {
    fn each_text(&self, f: &mut dyn FnMut(Option<usize>, &str)) {
        f(None, self);
    }
}
impl Text for String {
    fn each_text(&self, f: &mut dyn FnMut(Option<usize>, &str)) {
        f(None, self);
    }
}
impl<T: Text> Text for Option<T> {
    fn each_text(&self, f: &mut dyn FnMut(Option<usize>, &str)) {
        if let Some(value) = self {
            value.each_text(f);
        }
    }
}
impl<T: Text> Text for Vec<T> {
    fn each_text(&self, f: &mut dyn FnMut(Option<usize>, &str)) {
        for (index, value) in self.iter().enumerate() {
            value.each_text(&mut |_, t| f(Some(index), t));
        }
    }
}

/// A parameter's rule, as its OpenAPI schema states it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Rule<'a> {
    /// `minLength`/`maxLength` (or `minItems`/`maxItems` of a list).
    Length {
        /// At least.
        min: Option<u64>,
        /// At most.
        max: Option<u64>,
    },
    /// `minimum`/`maximum`.
    Range {
        /// At least.
        min: Option<f64>,
        /// At most.
        max: Option<f64>,
    },
    /// `format: email`.
    Email,
    /// `format: uri`.
    Url,
    /// `pattern`.
    Pattern(&'a str),
    /// `pattern` of the escaped text.
    Contains(&'a str),
    /// The parameter is required.
    Required,
}

impl Rule<'_> {
    /// States the rule in `schema`, a parameter's schema; the rule of a list's length applies
    /// to the list, the others to its items.
    pub(crate) fn apply(&self, schema: &mut Value, required: &mut bool) {
        let is_list = schema.get("type").and_then(Value::as_str) == Some("array");
        let of_items = is_list && !matches!(self, Rule::Length { .. } | Rule::Required);
        let target = if of_items && schema.get("items").is_some() { &mut schema["items"] } else { schema };
        let is_list = target.get("type").and_then(Value::as_str) == Some("array");
        match *self {
            Rule::Length { min, max } => {
                let (lo, hi) = if is_list { ("minItems", "maxItems") } else { ("minLength", "maxLength") };
                if let Some(min) = min {
                    target[lo] = json!(min);
                }
                if let Some(max) = max {
                    target[hi] = json!(max);
                }
            }
            Rule::Range { min, max } => {
                for (key, bound) in [("minimum", min), ("maximum", max)] {
                    if let Some(bound) = bound {
                        target[key] = number(bound);
                    }
                }
            }
            Rule::Email => target["format"] = json!("email"),
            Rule::Url => target["format"] = json!("uri"),
            Rule::Pattern(p) => target["pattern"] = json!(p),
            Rule::Contains(text) => target["pattern"] = json!(escape_pattern(text)),
            Rule::Required => *required = true,
        }
    }
}

/// A bound as the document writes it: an integer when it is one.
fn number(n: f64) -> Value {
    #[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
    if n.fract() == 0.0 && n.abs() < 9e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// `text` as a regular expression that matches it literally (what `regex::escape` does, here
/// so that the `contains` rule needs no regex crate).
fn escape_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern
}

/// A type that crosses the wire as JSON: mark it `#[doudou::model]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a doudou model, so it cannot cross the wire as JSON (a body or an answer)",
    label = "not a #[doudou::model]",
    note = "mark the type's definition `#[doudou::model]`; a scalar parameter implements `doudou::FromParam` instead"
)]
pub trait Model: Serialize + DeserializeOwned + JsonSchema + Send + 'static {
    /// The value of an absent body: `None` for an `Option`, else absence is an error.
    #[doc(hidden)]
    fn absent() -> Option<Self> {
        None
    }

    /// Whether the client sends no body for this value.
    #[doc(hidden)]
    fn is_absent(&self) -> bool {
        false
    }

    /// Whether [`validate`](Model::validate) checks anything (generated).
    #[doc(hidden)]
    const VALIDATES: bool = false;

    /// Checks the `#[validate(...)]` rules of its fields (generated by `#[doudou::model]`;
    /// nothing when no field has a rule).
    #[doc(hidden)]
    fn validate(&self, _report: &mut Report) {}
}

impl<T: Model> Model for Option<T> {
    const VALIDATES: bool = T::VALIDATES;

    fn absent() -> Option<Self> {
        Some(None)
    }

    fn is_absent(&self) -> bool {
        self.is_none()
    }

    fn validate(&self, report: &mut Report) {
        if let Some(value) = self {
            value.validate(report);
        }
    }
}

impl<T: Model> Model for Vec<T> {
    const VALIDATES: bool = T::VALIDATES;

    fn validate(&self, report: &mut Report) {
        for (index, item) in self.iter().enumerate() {
            report.element(index, item);
        }
    }
}
impl<T: Model> Model for Box<T> {
    const VALIDATES: bool = T::VALIDATES;

    fn validate(&self, report: &mut Report) {
        (**self).validate(report);
    }
}
impl<T: Model> Model for HashMap<String, T> {
    const VALIDATES: bool = T::VALIDATES;

    fn validate(&self, report: &mut Report) {
        for (key, value) in self {
            report.nested(key, value);
        }
    }
}
impl<T: Model> Model for BTreeMap<String, T> {
    const VALIDATES: bool = T::VALIDATES;

    fn validate(&self, report: &mut Report) {
        for (key, value) in self {
            report.nested(key, value);
        }
    }
}
impl Model for serde_json::Value {}

macro_rules! scalar_models {
    ($($t:ty),*) => {$( impl Model for $t {} )*};
}
scalar_models!(bool, char, String, u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

#[cfg(test)]
mod tests;
