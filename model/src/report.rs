//! An error and its sources, as one line for a person to read.

/// `e` and each of its sources, joined by `: `. A source whose message the
/// line already holds is left out: massline's errors say their source in
/// their own message (so `to_string` alone tells the whole story) and keep it
/// as their source besides.
pub fn report(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("storage: {0}")]
    struct Said(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("cannot sync")]
    struct Unsaid(#[source] std::io::Error);

    #[test]
    fn each_cause_is_said_once() {
        let io = || std::io::Error::other("disk full");
        assert_eq!(report(&Said(io())), "storage: disk full");
        assert_eq!(report(&Unsaid(io())), "cannot sync: disk full");
    }
}
