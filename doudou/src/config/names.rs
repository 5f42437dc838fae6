//! Which names doudou knows (for typo warnings) and which values are secret (for the dump).

/// Name parts that mark a variable's whole value as secret in the config dump.
pub const SECRET_NAME_PARTS: &[&str] =
    &["PASS", "PWD", "SECRET", "CREDENTIAL", "AUTH", "KEY", "TOKEN", "DSN", "PRIVATE"];

pub(super) const REDACTED: &str = "******";

pub(super) fn is_gdd(name: &[u8]) -> bool {
    name.len() >= 4 && name[..4].eq_ignore_ascii_case(b"GDD_")
}

pub(super) fn known_vars() -> impl Iterator<Item = &'static str> {
    super::settings::SETTINGS.iter().map(|s| s.name)
}

pub(super) fn known_var(name: &str) -> bool {
    known_vars().any(|k| k == name)
}

/// The known name nearest to `name` by edit distance, if near enough to be a typo.
pub(super) fn closest_known_var(name: &str) -> Option<&'static str> {
    known_vars()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 5))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance, counting an adjacent transposition as one edit.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// `scheme://user:password@host/...` -> `scheme://user:******@host/...` (and `scheme://token@host`
/// -> `scheme://******@host`), wherever a URL appears in the value (lists included).
pub(super) fn redact_userinfo(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '?', '#', ',', ' ', ';']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                let userinfo = &authority[..userinfo_end];
                if let Some((user, _password)) = userinfo.split_once(':') {
                    out.push_str(user);
                    out.push(':');
                }
                out.push_str(REDACTED);
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}
