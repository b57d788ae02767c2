//! Argon2id password hashing with a length policy, and a dummy verification that costs the
//! same so that an unknown username takes as long to refuse as a wrong password.

use crate::IdentityError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// Longest password accepted (bounds hashing work on hostile input).
pub const MAX_LENGTH: usize = 256;

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Shorter than [`MIN_LENGTH`] characters.
    #[error("a password needs at least {MIN_LENGTH} characters")]
    TooShort,
    /// Longer than [`MAX_LENGTH`] characters.
    #[error("a password may have at most {MAX_LENGTH} characters")]
    TooLong,
    /// One character repeated.
    #[error("a password must not be one character repeated")]
    Repetitive,
    /// A common password, or one built from one (`Password1234`, `iloveyou2026`, `p@ssw0rd!!`).
    #[error("this password is among the most common ones (or built from one): choose a passphrase of unrelated words")]
    Common,
    /// Mostly a keyboard or alphabet sequence, digits only, or too few different characters.
    #[error("this password is a sequence or pattern that is guessed first: choose a passphrase of unrelated words")]
    Pattern,
    /// Contains the username or the person's name.
    #[error("a password must not contain your username or name")]
    Personal,
}

/// The stems of the most used passwords (lower case, after look-alike digits and symbols are
/// read as letters): a password that is one of them, or one of them with digits and symbols
/// around it, is refused. Guessers try these first (NIST SP 800-63B §5.1.1.2).
const COMMON: &[&str] = &[
    "password",
    "passw",
    "passwort",
    "passphrase",
    "qwerty",
    "qwertz",
    "azerty",
    "iloveyou",
    "letmein",
    "welcome",
    "admin",
    "administrator",
    "root",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "soccer",
    "hockey",
    "cricket",
    "sunshine",
    "princess",
    "shadow",
    "master",
    "superman",
    "batman",
    "trustno",
    "whatever",
    "freedom",
    "secret",
    "loveme",
    "lovely",
    "love",
    "hello",
    "hellothere",
    "michael",
    "jennifer",
    "jordan",
    "charlie",
    "daniel",
    "thomas",
    "george",
    "andrew",
    "robert",
    "jessica",
    "ashley",
    "michelle",
    "nicole",
    "matthew",
    "joshua",
    "computer",
    "internet",
    "starwars",
    "pokemon",
    "mustang",
    "ferrari",
    "chelsea",
    "liverpool",
    "arsenal",
    "manchester",
    "barcelona",
    "juventus",
    "pakistan",
    "karachi",
    "lahore",
    "islamabad",
    "china",
    "beijing",
    "shanghai",
    "india",
    "america",
    "london",
    "summer",
    "winter",
    "spring",
    "autumn",
    "january",
    "december",
    "monday",
    "friday",
    "sunday",
    "changeme",
    "default",
    "guest",
    "test",
    "testing",
    "tester",
    "demo",
    "user",
    "login",
    "access",
    "security",
    "secure",
    "letmeinnow",
    "qazwsx",
    "zaq",
    "asdf",
    "zxcv",
    "abc",
    "abcd",
    "abcdef",
    "killer",
    "pepper",
    "ginger",
    "cookie",
    "cheese",
    "banana",
    "orange",
    "apple",
    "chocolate",
    "flower",
    "angel",
    "baby",
    "babygirl",
    "jesus",
    "god",
    "blessed",
    "family",
    "forever",
    "friends",
    "hunter",
    "ranger",
    "tigger",
    "harley",
    "maggie",
    "buster",
    "bailey",
    "jasmine",
    "passion",
    "matrix",
    "samsung",
    "google",
    "facebook",
    "twitter",
    "linkedin",
    "microsoft",
    "windows",
    "apple",
    "iphone",
    "jsms",
    "security",
    "convoy",
    "escort",
    "embassy",
    "company",
    "project",
    "engineer",
    "engineering",
];

/// Keyboard rows and alphabets, each read forwards and backwards for sequences.
const SEQUENCES: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789012",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "azertyuiop",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
];

/// Reads look-alike digits and symbols as the letters they stand for.
fn unleet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        '+' => 't',
        c => c,
    }
}

/// Whether `a` then `b` are neighbours in one of the [`SEQUENCES`] (either direction).
fn adjacent(a: char, b: char) -> bool {
    SEQUENCES.iter().any(|seq| {
        seq.chars()
            .zip(seq.chars().skip(1))
            .any(|(x, y)| (x == a && y == b) || (y == a && x == b))
    })
}

/// How many characters of `lower` lie in runs of three or more sequence neighbours.
fn in_sequences(lower: &[char]) -> usize {
    let mut covered = 0;
    let mut run = 1;
    for i in 1..=lower.len() {
        let continues = i < lower.len()
            && lower
                .get(i - 1)
                .zip(lower.get(i))
                .is_some_and(|(a, b)| adjacent(*a, *b));
        if continues {
            run += 1;
        } else {
            if run >= 3 {
                covered += run;
            }
            run = 1;
        }
    }
    covered
}

/// Whether `word` is common, or common words and look-alikes repeated.
fn is_common(word: &str) -> bool {
    if word.is_empty() {
        return true;
    }
    COMMON.iter().any(|c| {
        word == *c
            || (word.len().is_multiple_of(c.len())
                && word.len() / c.len() <= 4
                && c.repeat(word.len() / c.len()) == word)
    })
}

/// Checks the password policy and refuses what guessers try first: common passwords and
/// their decorated forms, sequences, digits only, too few different characters, and (with
/// [`check_policy_for`]) the user's own names.
pub fn check_policy(password: &str) -> Result<(), PolicyError> {
    check_policy_for(password, &[])
}

/// [`check_policy`], also refusing a password that contains any of `personal` (the username,
/// the display name and its parts; those shorter than four characters are ignored).
pub fn check_policy_for(password: &str, personal: &[&str]) -> Result<(), PolicyError> {
    check_length(password)?;
    let lower: Vec<char> = password.to_lowercase().chars().collect();
    let lower_text: String = lower.iter().collect();
    for p in personal {
        for part in p.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
            if part.chars().count() >= 4 && lower_text.contains(part) {
                return Err(PolicyError::Personal);
            }
        }
    }
    let mut distinct: Vec<char> = lower.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 || lower.iter().all(|c| c.is_ascii_digit() || c.is_whitespace()) {
        return Err(PolicyError::Pattern);
    }
    if in_sequences(&lower) * 4 >= lower.len() * 3 {
        return Err(PolicyError::Pattern);
    }
    // The word inside the decoration: digits and symbols around it dropped, separators
    // removed, look-alikes read as letters (before or after the decoration is dropped).
    let joined: String = lower
        .iter()
        .filter(|c| !c.is_whitespace() && **c != '-' && **c != '_' && **c != '.')
        .collect();
    let undecorated = joined.trim_matches(|c: char| !c.is_alphabetic());
    let read: String = undecorated.chars().map(unleet).collect();
    let read_all: String = joined.chars().map(unleet).collect();
    if [
        undecorated,
        read.as_str(),
        read_all.trim_matches(|c: char| !c.is_alphabetic()),
    ]
    .iter()
    .any(|w| is_common(w))
    {
        return Err(PolicyError::Common);
    }
    Ok(())
}

fn check_length(password: &str) -> Result<(), PolicyError> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(PolicyError::TooShort);
    }
    if len > MAX_LENGTH {
        return Err(PolicyError::TooLong);
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(PolicyError::Repetitive);
    }
    Ok(())
}

fn hasher() -> Argon2<'static> {
    // OWASP's first recommended Argon2id configuration: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$...`).
pub fn hash(password: &str) -> Result<String, IdentityError> {
    let salt_bytes = crate::random::bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| IdentityError::Hash(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| IdentityError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `stored`. A malformed stored hash is an error.
pub fn verify(stored: &str, password: &str) -> Result<bool, IdentityError> {
    if password.len() > MAX_LENGTH * 4 {
        return Ok(false);
    }
    let parsed = PasswordHash::new(stored).map_err(|e| IdentityError::Hash(e.to_string()))?;
    Ok(hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the time of one verification against a fixed hash, and returns `false`. Called when
/// the username is unknown so that the answer takes as long as for a wrong password.
pub fn verify_dummy(password: &str) -> bool {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    if let Some(stored) = DUMMY.get_or_init(|| hash("dummy password for timing").ok()) {
        let _ = verify(stored, password);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() -> Result<(), IdentityError> {
        let h = hash("correct horse battery")?;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(&h, "correct horse battery")?);
        assert!(!verify(&h, "correct horse battere")?);
        assert!(verify("not a hash", "x").is_err());
        assert!(!verify_dummy("anything at all"));
        Ok(())
    }

    #[test]
    fn policy() {
        assert_eq!(check_policy("short"), Err(PolicyError::TooShort));
        assert_eq!(check_policy("aaaaaaaaaaaaaa"), Err(PolicyError::Repetitive));
        assert_eq!(check_policy(&"ab".repeat(200)), Err(PolicyError::TooLong));
        assert_eq!(check_policy("twelve chars"), Ok(()));
    }

    #[test]
    fn what_guessers_try_first_is_refused() {
        for weak in [
            "password1234",
            "Password1234",
            "P@ssw0rd2026!",
            "iloveyou1234",
            "ILoveYou!!!!2026",
            "letmein-letmein",
            "qwertyuiopas",
            "123456789012",
            "098765432109",
            "abcdefghijkl",
            "1qaz2wsx3edc",
            "abababababab",
            "112233112233",
            "monkeymonkey12",
            "Welcome2026!!",
        ] {
            assert!(check_policy(weak).is_err(), "{weak} accepted");
        }
        for strong in [
            "a brand new passphrase",
            "correct horse battery staple",
            "Xk7#pQ2m!vR9",
            "kettle orbit window 42",
            "mangoes ripen in july",
            "a long enough password",
        ] {
            assert_eq!(check_policy(strong), Ok(()), "{strong}");
        }
        assert_eq!(
            check_policy_for("hn.coordinator-2026!", &["hn.coordinator", "Host Coordinator"]),
            Err(PolicyError::Personal)
        );
        assert_eq!(
            check_policy_for("nadia sees the harbour", &["hn.duty", "Nadia Rahman"]),
            Err(PolicyError::Personal)
        );
        assert_eq!(
            check_policy_for("kettle orbit window 42", &["hn.duty", "Nadia Rahman"]),
            Ok(())
        );
    }
}
