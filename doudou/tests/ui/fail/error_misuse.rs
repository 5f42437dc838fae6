// #[doudou::error] misuse: a variant without a status, a status that is not an error, a
// tuple variant with data, a code used twice, and no `other` variant; all reported at once.
#[doudou::error]
#[derive(Debug)]
pub enum UserError {
    NotFound,
    #[error(status = 200, code = 20001)]
    Fine,
    #[error(status = 409, code = 40901)]
    Conflict(u64),
    #[error(status = 410, code = 40901)]
    Gone,
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

fn main() {}
