//! The codes of Gluon's package checks (GL…): one per kind of check in
//! Gluon's check_site.lua vocabulary. A code never changes meaning once
//! released.

use crate::diagnostics::declare_codes;

declare_codes! {
    WRONG_TYPE = "GL001" "wrong-type" Error GluonCheck
        "A key is unset or has the wrong type."
        "Gluon's `need_string`, `need_number`, `need_boolean`, `need_table`, `need_array` and \
        their relatives: the key must be present (unless optional) and of the given Lua type. \
        After the JSON round trip, `{}` is an (empty) array and a table with holes is not an \
        array."
    PATTERN = "GL002" "pattern-mismatch" Error GluonCheck
        "A string does not match the Lua pattern Gluon requires."
        "Gluon's `need_string_match` and `need_string_array_match` match with Lua 5.1 patterns, \
        not regular expressions: `%x` is a hex digit, `.` any character, and an unanchored \
        pattern may match anywhere in the string."
    NOT_ALLOWED = "GL003" "value-not-allowed" Error GluonCheck
        "A value is not one of those Gluon allows."
        "Gluon's `need_one_of`, `need_value`, `need_array_of`, `need_chanlist` and \
        `need_array_elements_exclusive`: the message lists the allowed values."
    RANGE = "GL004" "out-of-range" Error GluonCheck
        "A number lies outside the range Gluon allows."
        "Gluon's `need_number_range`."
    SITE_ONLY = "GL005" "site-only-key" Error GluonCheck
        "A domain file sets a key that belongs in site.conf."
        "Some keys apply to the whole site and may not differ between domains (`in_site` in \
        check_site.lua). Move the key from the domain file to site.conf."
    DOMAIN_ONLY = "GL006" "domain-only-key" Error GluonCheck
        "site.conf sets a key that belongs in each domain file."
        "Some keys are per domain (`in_domain` in check_site.lua), e.g. `domain_seed`, `prefix6` \
        and the mesh VPN peers. In a multidomain site they must be set in `domains/*.conf`, not \
        in site.conf."
    OBSOLETE = "GL007" "obsolete-key" Error GluonCheck
        "A key that this Gluon release no longer supports is set."
        "The message says what replaces it."
    ALTERNATIVES = "GL008" "no-alternative-matched" Error GluonCheck
        "A value fits none of the forms Gluon accepts."
        "Gluon's `alternatives`: every accepted form was tried and each failed; the message lists \
        why, form by form."
    REQUIREMENT = "GL009" "failed-requirement" Error GluonCheck
        "A value fails a requirement of a package's own."
        "Checks written out in a package's check_site.lua, such as the number of good signatures \
        of an autoupdater branch against its public keys."
    INVALID_KEY = "GL010" "invalid-key" Error GluonCheck
        "A table key is not a string of letters, digits and underscores."
        "Gluon's `need_alphanumeric_key`, e.g. for autoupdater branch names and domain names."
    UNKNOWN_DOMAIN = "GL011" "unknown-domain" Error GluonCheck
        "A domain name does not name a domain of the site."
        "Gluon's `need_domain_name`: `default_domain` must be the code of a file in `domains/` \
        or one of the names in some domain's `domain_names`."
}
