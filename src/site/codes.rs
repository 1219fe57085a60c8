//! The codes of loading a site (GS…): Lua evaluation, site.mk, the image
//! customisation, the package selection, the domains and the site's
//! gluonvpn.toml. A code never changes meaning once released.

use crate::diagnostics::declare_codes;

declare_codes! {
    LUA_SYNTAX = "GS001" "lua-syntax-error" Error GluonBuild
        "A site file is not valid Lua 5.1."
        "Gluon evaluates `site.conf` and `domains/*.conf` as the Lua expression `return <file>`; \
        a syntax error stops `make` before anything is built (\"Your site configuration (site.conf) \
        did not pass validation\"). Template placeholders that a script replaces before the build \
        (`%A`, `@VAR@`) are the usual cause. The line is Lua's own."
    LUA_RUNTIME = "GS002" "lua-runtime-error" Error GluonBuild
        "Evaluating a site file raised a Lua error."
        "Site files run with an empty environment: there are no globals such as `string`, `os` or \
        `print`. Only string methods (`('x'):rep(3)`) and code written in the file itself work. \
        A bare identifier such as `True` is a global and evaluates to nil, which is not an error; \
        indexing or calling it is."
    LUA_LIMIT = "GS003" "lua-resource-limit" Error Gluonvpn
        "Evaluating a site file ran too long or used too much memory."
        "gluonvpn runs site files in a sandbox with an instruction, memory and time budget far \
        above what any real site needs, so that an endless loop or a runaway allocation ends in \
        this error instead of a hang. Gluon itself would hang or run out of memory. The same \
        code stops a string pattern with more than 200 repetitions (`?`, `*`, `+`, `-`) and \
        captures (\"pattern too complex\"): Lua 5.1's matcher recurses once for each, and \
        Gluon's Lua crashes on long ones."
    NOT_A_TABLE = "GS004" "config-not-a-table" Error GluonBuild
        "A site file does not evaluate to a table."
        "`site.conf` and each domain file must be one Lua table constructor (`{ ... }`), or an \
        expression that returns a table. A file that returns nil or false fails Gluon's \
        `assert` in scripts/site_config.lua; any other value fails every check."
    NOT_SERIALISABLE = "GS005" "config-not-serialisable" Error GluonBuild
        "A site file's value cannot be turned into JSON."
        "Gluon serialises the evaluated configuration to JSON. A table that contains itself, or \
        tables nested deeper than 64 levels, cannot be serialised (Gluon's serialiser recurses \
        without end)."
    MISSING_FILE = "GS006" "missing-site-file" Error GluonBuild
        "A file every Gluon site needs is missing or unreadable."
        "A site directory needs `site.conf` and `site.mk`; without `site.mk` Gluon's Makefile \
        stops with \"No site configuration was found\". From Gluon v2023.2 on, \
        `image-customization.lua` is required too (see GS012)."
    FILE_REFUSED = "GS007" "site-file-refused" Error Gluonvpn
        "A site file is not a regular file inside the site, or larger than gluonvpn reads."
        "gluonvpn runs on pull requests, on files anyone may have written, so it reads only \
        regular files, only inside the site directory once every symbolic link is resolved, and \
        at most a cap per kind of file (16 MiB for site.conf and each domain file, 1 MiB for \
        site.mk, image-customization.lua, the files it includes and gluonvpn.toml; the book's \
        page on trust and limits lists them all). A symbolic link to `/dev/zero`, \
        `/proc/self/environ` or a file outside the repository, a FIFO, a device or a \
        directory in a site file's place is refused with this error, before a byte is read \
        (a FIFO would make Gluon's build hang; a link out of the repository would let a pull \
        request read the CI machine's files). Replace it with the regular file it stands for."
    RELEASE_MISFIT = "GS008" "release-misfit" Warning Gluonvpn
        "The site is written for other Gluon releases than the one it is checked with."
        "A site shows which Gluon releases it is written for: `image-customization.lua` (read \
        from v2023.2 on; before, it is ignored and the images get only the default packages), \
        `GLUON_FEATURES`/`GLUON_SITE_PACKAGES` in site.mk (rejected from v2023.2 on), keys a \
        release's checks call obsolete, Gluon's Tunneldigger package (gone in v2025.1). \
        Without `--gluon-version`, `check` takes the newest release the site fits and says so \
        in its summary; with a release that does not fit, this finding says why, and the lints \
        that depend on the images' packages are not run on an image set the site never \
        meant. A site that fits no supported release (a key obsolete in all of them) is \
        written for a release older than v2022.1: see the upgrading chapter of the book."
    SITE_MK = "GS010" "site-mk-error" Error GluonBuild
        "GNU make failed on site.mk."
        "Gluon's Makefile includes `site.mk`, so any make error in it (a missing include, a \
        recipe line outside a rule, an `$(error …)`) stops the build at once. gluonvpn runs GNU \
        make on site.mk the way Gluon does and reports make's own message."
    OBSOLETE_SITE_MK_VAR = "GS011" "obsolete-site-mk-variable" Error GluonBuild
        "site.mk sets GLUON_FEATURES or GLUON_SITE_PACKAGES, which Gluon v2023.2 and later reject."
        "From v2023.2 on, features and packages are selected in `image-customization.lua` \
        (`features { ... }`, `packages { ... }`); Gluon's Makefile stops with an error when \
        `GLUON_FEATURES`, `GLUON_FEATURES_standard`, `GLUON_FEATURES_tiny`, `GLUON_SITE_PACKAGES` \
        or its `_standard`/`_tiny` variants are set. v2023.1 and older still read them."
    MISSING_IMAGE_CUSTOMIZATION = "GS012" "missing-image-customization" Error GluonBuild
        "image-customization.lua is missing; Gluon v2023.2 and later require it."
        "From v2023.2 on, Gluon loads `image-customization.lua` from the site directory to select \
        features and packages, and the build stops (\"cannot open image-customization.lua\") \
        without it. Before v2023.2 the file is ignored."
    IMAGE_CUSTOMIZATION = "GS013" "image-customization-error" Error GluonBuild
        "image-customization.lua failed to evaluate or misuses the DSL."
        "The file runs once per device with the functions `features`, `packages`, `broken`, \
        `disable`, `disable_factory`, `device`, `target`, `device_class` and `include` and no \
        other globals. Gluon stops the build at the first wrong call, e.g. `features('x')` \
        instead of `features({'x'})`."
    UNKNOWN_PACKAGE = "GS014" "unknown-package" Error GluonBuild
        "A selected package exists neither in Gluon nor in the site's feeds."
        "A feature without a mapping in `package/features` becomes the package `gluon-<feature>`; \
        that, or a package named directly, must be defined by a Makefile in Gluon or in a feed \
        listed in the site's `modules`. Otherwise OpenWrt drops it and Gluon's \
        target_config_check stops with \"unable to enable package 'X'\". gluonvpn reports \
        `gluon-*` names that this Gluon release does not define when the site has no feeds."
    DOMAIN_NAME_CONFLICT = "GS015" "domain-name-conflict" Error GluonBuild
        "Two domains, or a domain and an alias, claim the same name."
        "Each domain is installed as `<code>.json` and each key of its `domain_names` as an alias \
        of it. A name taken twice fails the gluon-site package build (\"Failed to alias domain \
        … name already taken by domain …\")."
    RELEASE_NOT_SET = "GS016" "release-not-set" Warning GluonBuild
        "GLUON_RELEASE is not set."
        "Gluon needs a release name for every image; set `GLUON_RELEASE` in site.mk or on make's \
        command line."
    NO_DOMAINS = "GS017" "no-domains" Error GluonBuild
        "A multidomain site without domain files."
        "With `GLUON_MULTIDOMAIN=1`, Gluon reads every `domains/*.conf`; with none, every check \
        fails with \"site error: no domain configurations found\"."
    SITE_MK_SHELL_SKIPPED = "GS018" "site-mk-shell-skipped" Info Gluonvpn
        "With --untrusted, a `$(shell …)` in site.mk was not run."
        "`gluonvpn check --untrusted` (and `render … --untrusted`) evaluates site.mk without \
        running any command: make may not start a process, so every `$(shell …)` and `!=` \
        expands to nothing, and make says where. This note marks each place once. Values built \
        from a command — a `GLUON_RELEASE` from `git describe` or `date`, say — are empty in \
        this check; Gluon's build runs the commands. Without `--untrusted` they run, as in \
        Gluon's build."
    SITE_MK_STOPPED = "GS019" "site-mk-stopped" Error Gluonvpn
        "gluonvpn stopped make on site.mk: a limit, an interrupt, or something the confinement denies."
        "gluonvpn runs make with a time limit (20 s) and a memory limit (1 GiB of address space \
        for make and each command it starts), in a process group that is killed as a whole. \
        With `--untrusted`, site.mk may also not write files, read files outside the site, \
        `load` objects or run a rule's recipe; without it, where the kernel allows, make and its \
        commands may still write only in gluonvpn's scratch directory. When site.mk does one of \
        those things, make stops and the site.mk variables are incomplete. Gluon's build would \
        not stop there (it may hang instead)."
    UNCHECKED_FEED_PACKAGE = "GS020" "unchecked-feed-package" Info Gluonvpn
        "A selected package comes from a site feed whose checks gluonvpn cannot run."
        "Packages from the site's own feeds (`modules`) may have a check_site.lua of their own, \
        which gluonvpn does not have. They are listed so that nobody mistakes a clean result for \
        a full one."
    INVALID_CONFIG = "GS021" "invalid-config" Error Gluonvpn
        "The site's gluonvpn.toml is not valid."
        "`gluonvpn.toml` in the site directory may change the severity of gluonvpn's own \
        findings: a `[lints]` table with `allow`, `warn` and `deny` lists of codes (and \
        `\"warnings\"` in `deny`). Unknown keys, unknown codes, and attempts to allow or lower one \
        of Gluon's own checks are errors; the file's settings are then ignored."
}
