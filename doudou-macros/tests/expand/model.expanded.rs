#[derive(
    ::doudou::__private::serde::Serialize,
    ::doudou::__private::serde::Deserialize,
    ::doudou::__private::schemars::JsonSchema
)]
#[serde(crate = "::doudou::__private::serde")]
#[schemars(crate = "::doudou::__private::schemars")]
#[derive(Debug)]
pub struct User {
    pub id: u64,
}
impl ::doudou::Model for User
where
    Self: ::doudou::__private::serde::Serialize
        + ::doudou::__private::serde::de::DeserializeOwned
        + ::doudou::__private::schemars::JsonSchema + ::core::marker::Send + 'static,
{}
