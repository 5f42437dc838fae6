//! What the attributes share: the path of the doudou crate (`crate = "path"`) and serde's
//! `rename_all` rules (a model's fields, a service's parameters). A leaf: every macro uses it.

use syn::parse::ParseStream;
use syn::LitStr;

/// `crate = "path"` (or nothing: `::doudou`).
pub(crate) fn crate_path(input: ParseStream<'_>) -> syn::Result<syn::Path> {
    if input.is_empty() {
        return Ok(syn::parse_quote!(::doudou));
    }
    input.parse::<syn::Token![crate]>()?;
    input.parse::<syn::Token![=]>()?;
    let lit: LitStr = input.parse()?;
    if !input.is_empty() {
        return Err(input.error("expected only `crate = \"path\"`"));
    }
    lit.parse()
}

/// serde's `rename_all` rules.
pub(crate) const RENAME_RULES: &[&str] = &[
    "lowercase",
    "UPPERCASE",
    "PascalCase",
    "camelCase",
    "snake_case",
    "SCREAMING_SNAKE_CASE",
    "kebab-case",
    "SCREAMING-KEBAB-CASE",
];

/// A snake_case field name under serde's `rename_all` rule.
pub(crate) fn rename(field: &str, rule: &str) -> String {
    let words: Vec<&str> = field.split('_').filter(|w| !w.is_empty()).collect();
    let capitalized = |w: &str| {
        let mut c = w.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
    };
    match rule {
        "lowercase" | "snake_case" => field.to_owned(),
        "UPPERCASE" | "SCREAMING_SNAKE_CASE" => field.to_uppercase(),
        "kebab-case" => field.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => field.to_uppercase().replace('_', "-"),
        "PascalCase" => words.iter().map(|w| capitalized(w)).collect(),
        "camelCase" => words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { (*w).to_owned() } else { capitalized(w) })
            .collect(),
        _ => field.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_follow_serde() {
        assert_eq!(rename("user_name_x", "camelCase"), "userNameX");
        assert_eq!(rename("user_name", "PascalCase"), "UserName");
        assert_eq!(rename("user_name", "SCREAMING-KEBAB-CASE"), "USER-NAME");
    }
}
