// #[doudou::error] is for enums: the error points at the struct and says what to write.
#[doudou::error]
pub struct UserError {
    pub code: u32,
}

fn main() {}
