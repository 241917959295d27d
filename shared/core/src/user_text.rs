//! People's text as our errors repeat it — one rule for every error that names what a person
//! sent (a parameter, a field's value, an event's type).

/// The longest user text an error repeats: a project key is far shorter, a token far longer.
const MAX_ECHOED_CHARS: usize = 20;

/// A user's text as an error repeats it: quoted when short, otherwise only its length, so that
/// a token pasted into the wrong field never comes back, not even in part.
pub fn echoed(text: &str) -> String {
    match text.chars().count() {
        n if n <= MAX_ECHOED_CHARS => format!("'{text}'"),
        n => format!("a text of {n} characters"),
    }
}
