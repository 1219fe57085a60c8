//! The fastd methods nodes of a site propose, and what they negotiate
//! with a gateway: what a fresh node writes (`400-mesh-vpn-fastd` of
//! gluon-mesh-vpn-fastd), what the config mode writes for secure and
//! performance mode (gluon-web-mesh-vpn-fastd: `null@l2tp` and `null` in
//! front since v2022.1, `null` before), and fastd's rule that the first
//! method *in the node's list* the gateway supports wins. Used by `render
//! node`, `render gateway` and the lint that checks an inventory's
//! methods policy (GV106).

/// The method list a fresh node writes (`400-mesh-vpn-fastd`).
pub fn node_methods(site_methods: &[String], configurable: bool) -> Vec<String> {
    if !configurable {
        return site_methods.to_vec();
    }
    let has_null = site_methods.iter().any(|m| m == "null@l2tp" || m == "null");
    let mut methods = Vec::new();
    if has_null {
        methods.push("null@l2tp".to_string());
        methods.push("null".to_string());
    }
    methods.extend(methods_but_null(site_methods));
    methods
}

/// The site's methods but `null@l2tp` and `null`, in the site's order: what
/// follows the null methods in a configurable list.
pub fn methods_but_null(site_methods: &[String]) -> impl Iterator<Item = String> + '_ {
    site_methods
        .iter()
        .filter(|m| *m != "null@l2tp" && *m != "null")
        .cloned()
}

/// Every method a node of the site may propose: the site's, and on
/// configurable sites `null@l2tp` and `null` (performance mode) in front.
pub fn default_gateway_methods(site_methods: &[String], configurable: bool) -> Vec<String> {
    if !configurable {
        return site_methods.to_vec();
    }
    let mut methods = vec!["null@l2tp".to_string(), "null".to_string()];
    methods.extend(methods_but_null(site_methods));
    methods
}

/// A kind of node, and the methods it proposes, in its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeClass {
    pub name: String,
    pub proposes: Vec<String>,
}

/// The kinds of node of a site: a fresh node (`400-mesh-vpn-fastd`), and on
/// configurable sites one switched to secure or performance mode in the
/// config mode, also by firmware before v2022.1.
pub fn node_classes(site_methods: &[String], configurable: bool) -> Vec<NodeClass> {
    let mut classes = vec![NodeClass {
        name: "fresh nodes".into(),
        proposes: node_methods(site_methods, configurable),
    }];
    if configurable {
        let secure: Vec<String> = methods_but_null(site_methods).collect();
        let mut performance = vec!["null@l2tp".to_string(), "null".to_string()];
        performance.extend(secure.iter().cloned());
        let mut old_performance = vec!["null".to_string()];
        old_performance.extend(secure.iter().cloned());
        classes.push(NodeClass {
            name: "nodes in secure mode".into(),
            proposes: secure,
        });
        classes.push(NodeClass {
            name: "nodes in performance mode".into(),
            proposes: performance,
        });
        classes.push(NodeClass {
            name: "nodes in performance mode with firmware before v2022.1".into(),
            proposes: old_performance,
        });
    }
    // Kinds that propose the same are one.
    let mut merged: Vec<NodeClass> = Vec::new();
    for class in classes {
        match merged.iter_mut().find(|c| c.proposes == class.proposes) {
            Some(same) => same.name = format!("{} and {}", same.name, class.name),
            None => merged.push(class),
        }
    }
    merged
}

/// What each kind of node negotiates with a gateway offering `offered`:
/// `(class, Some(method))`, or `None` when it has no method in common.
pub fn negotiated<'c>(
    classes: &'c [NodeClass],
    offered: &[String],
) -> Vec<(&'c NodeClass, Option<&'c str>)> {
    classes
        .iter()
        .map(|class| {
            let method = class
                .proposes
                .iter()
                .find(|m| offered.contains(m))
                .map(String::as_str);
            (class, method)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_default_serves_every_node() {
        assert_eq!(
            default_gateway_methods(&v(&["salsa2012+umac"]), true),
            v(&["null@l2tp", "null", "salsa2012+umac"])
        );
        assert_eq!(
            default_gateway_methods(&v(&["salsa2012+umac", "null"]), false),
            v(&["salsa2012+umac", "null"])
        );
        for configurable in [false, true] {
            for site in [v(&["salsa2012+umac"]), v(&["null", "salsa2012+umac"])] {
                let offered = default_gateway_methods(&site, configurable);
                let classes = node_classes(&site, configurable);
                for (class, method) in negotiated(&classes, &offered) {
                    assert_eq!(
                        method,
                        class.proposes.first().map(String::as_str),
                        "{class:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_policy_shows_what_nodes_negotiate() {
        let site = v(&["salsa2012+umac"]);
        let classes = node_classes(&site, true);
        let result = negotiated(&classes, &v(&["salsa2012+umac"]));
        assert!(result.iter().all(|(_, m)| *m == Some("salsa2012+umac")));
        let result = negotiated(&classes, &v(&["null"]));
        let secure = result
            .iter()
            .find(|(c, _)| c.name.contains("nodes in secure mode"))
            .unwrap();
        assert_eq!(secure.1, None);
    }
}
