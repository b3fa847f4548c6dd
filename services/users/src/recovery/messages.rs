//! The texts of recovery mails, as plain text and HTML.

use std::time::Duration;

use crate::mail::{Mail, Mailer};

/// Where the store shows the password-reset form.
pub const RESET_PASSWORD_PATH: &str = "/reset-password";
/// Where the store confirms an email address.
pub const VERIFY_EMAIL_PATH: &str = "/verify-email";

pub fn password_reset(mailer: &Mailer, to: &str, token: &str, ttl: Duration) -> Mail {
    let link = mailer.link(RESET_PASSWORD_PATH, token);
    let valid = validity(ttl);
    Mail {
        to: to.to_owned(),
        subject: "Reset your Storefront password".to_owned(),
        text: format!(
            "Someone asked to reset the password of your Storefront account.\n\n\
             To choose a new password, open this link (it works once, for {valid}):\n\n\
             {link}\n\n\
             Every device signed in to your account will be signed out.\n\
             If you did not ask for this, ignore this mail: your password stays as it is.\n"
        ),
        html: page(&format!(
            "<p>Someone asked to reset the password of your Storefront account.</p>\
             <p><a href=\"{href}\">Choose a new password</a> (the link works once, for {valid}).</p>\
             <p>Every device signed in to your account will be signed out.</p>\
             <p>If you did not ask for this, ignore this mail: your password stays as it is.</p>",
            href = escape(&link),
        )),
        kind: "password_reset",
    }
}

pub fn email_verification(mailer: &Mailer, to: &str, token: &str, ttl: Duration) -> Mail {
    let link = mailer.link(VERIFY_EMAIL_PATH, token);
    let valid = validity(ttl);
    Mail {
        to: to.to_owned(),
        subject: "Confirm your email address for Storefront".to_owned(),
        text: format!(
            "Welcome to Storefront.\n\n\
             To confirm that this address is yours, open this link (it works for {valid}):\n\n\
             {link}\n\n\
             If you did not create an account, ignore this mail.\n"
        ),
        html: page(&format!(
            "<p>Welcome to Storefront.</p>\
             <p><a href=\"{href}\">Confirm this email address</a> (the link works for {valid}).</p>\
             <p>If you did not create an account, ignore this mail.</p>",
            href = escape(&link),
        )),
        kind: "email_verification",
    }
}

fn page(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Storefront</title></head>\
         <body style=\"font-family: sans-serif; line-height: 1.5\">{body}</body></html>"
    )
}

/// "30 minutes", "48 hours", "1 day and 1 hour": how long a link works, for people.
fn validity(ttl: Duration) -> String {
    let minutes = ttl.as_secs().div_ceil(60).max(1);
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if minutes < 120 {
        plural(minutes, "minute")
    } else if minutes.is_multiple_of(60) && minutes <= 72 * 60 {
        plural(minutes / 60, "hour")
    } else {
        let hours = minutes.div_ceil(60);
        match (hours / 24, hours % 24) {
            (days, 0) => plural(days, "day"),
            (0, hours) => plural(hours, "hour"),
            (days, hours) => format!("{} and {}", plural(days, "day"), plural(hours, "hour")),
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_lifetimes_read_naturally() {
        assert_eq!(validity(Duration::from_secs(1800)), "30 minutes");
        assert_eq!(validity(Duration::from_secs(1)), "1 minute");
        assert_eq!(validity(Duration::from_secs(48 * 3600)), "48 hours");
        assert_eq!(validity(Duration::from_secs(7 * 24 * 3600)), "7 days");
        assert_eq!(
            validity(Duration::from_secs(25 * 3600 + 60)),
            "1 day and 2 hours"
        );
    }

    #[test]
    fn links_in_html_are_escaped() {
        assert_eq!(escape("a?x=1&y=\"2\""), "a?x=1&amp;y=&quot;2&quot;");
    }
}
