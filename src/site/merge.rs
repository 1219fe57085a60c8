//! Gluon's merge of site.conf and a domain file (check-site.lua `merge`).
//!
//! The domain wins for values of different type and for non-tables; an empty
//! table in the domain keeps the site's value; an array never merges with a
//! non-array (the domain's wins); otherwise tables merge key by key — arrays
//! too, item by item, so a shorter domain array replaces only the site
//! array's first items.

use super::value::{Node, Value};

pub fn merge(site: &Node, domain: &Node) -> Node {
    if site.lua_type() != domain.lua_type() || !domain.is_table() {
        return domain.clone();
    }
    if domain.is_empty_table() {
        return site.clone();
    }
    let value = match (&site.value, &domain.value) {
        (Value::Array(a), Value::Array(b)) => {
            let mut items = a.clone();
            for (i, item) in b.iter().enumerate() {
                match items.get_mut(i) {
                    Some(existing) => *existing = merge(existing, item),
                    None => items.push(item.clone()),
                }
            }
            Value::Array(items)
        }
        (Value::Object(a), Value::Object(b)) => {
            let mut fields = a.clone();
            for (key, item) in b {
                match fields.iter_mut().find(|(k, _)| k == key) {
                    Some((_, existing)) => *existing = merge(existing, item),
                    None => fields.push((key.clone(), item.clone())),
                }
            }
            Value::Object(fields)
        }
        // An array and an object: the domain's replaces the site's.
        _ => return domain.clone(),
    };
    Node {
        value,
        span: domain.span,
        key_span: domain.key_span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::value::Value as V;

    fn s(text: &str) -> Node {
        Node::new(V::String(text.into()), None)
    }
    fn arr(items: Vec<Node>) -> Node {
        Node::new(V::Array(items), None)
    }
    fn obj(fields: Vec<(&str, Node)>) -> Node {
        Node::new(
            V::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            ),
            None,
        )
    }

    #[test]
    fn domain_values_replace_and_tables_merge() {
        let site = obj(vec![
            ("a", s("site")),
            ("t", obj(vec![("x", s("1")), ("y", s("2"))])),
        ]);
        let domain = obj(vec![
            ("a", s("domain")),
            ("t", obj(vec![("y", s("3")), ("z", s("4"))])),
        ]);
        let merged = merge(&site, &domain);
        assert_eq!(merged.get_name("a").and_then(Node::as_str), Some("domain"));
        let t = merged.get_name("t").expect("t");
        assert_eq!(t.get_name("x").and_then(Node::as_str), Some("1"));
        assert_eq!(t.get_name("y").and_then(Node::as_str), Some("3"));
        assert_eq!(t.get_name("z").and_then(Node::as_str), Some("4"));
    }

    #[test]
    fn empty_domain_tables_keep_the_site_value() {
        let site = obj(vec![("servers", arr(vec![s("a")]))]);
        let domain = obj(vec![("servers", arr(vec![]))]);
        let merged = merge(&site, &domain);
        assert_eq!(merged.get_name("servers").map(Node::len), Some(1));
    }

    #[test]
    fn arrays_merge_item_by_item() {
        let site = arr(vec![s("a"), s("b"), s("c")]);
        let domain = arr(vec![s("x")]);
        let merged = merge(&site, &domain);
        let items: Vec<_> = merged.items().iter().filter_map(Node::as_str).collect();
        assert_eq!(items, ["x", "b", "c"]);
    }

    #[test]
    fn arrays_and_objects_do_not_merge() {
        let site = arr(vec![s("a")]);
        let domain = obj(vec![("k", s("v"))]);
        assert_eq!(merge(&site, &domain), domain);
        let site = obj(vec![("k", s("v"))]);
        let domain = s("text");
        assert_eq!(merge(&site, &domain), domain);
    }
}
