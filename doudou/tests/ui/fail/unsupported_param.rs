// A parameter that is neither a scalar nor deserializable is reported on its type.
pub struct NotSerde;

#[doudou::service]
pub trait Users {
    async fn post_thing(&self, thing: NotSerde) -> Result<u64, doudou::Error>;
}

fn main() {}
