//! Charts and the blast-radius graph as inline SVG, drawn on the server: they render without
//! JavaScript, under a CSP that allows no inline script or style, and stay accessible (each has
//! a title and a text alternative beside it).

use std::collections::HashMap;

use maud::{Markup, html};

use crate::api::dto::{ChainHopDto, IdentityDetailDto, TrustChainDto};

/// A colour for a risk score (0–100), from calm to alarming.
pub fn risk_class(risk: f64) -> &'static str {
    match risk {
        r if r >= 80.0 => "risk-critical",
        r if r >= 60.0 => "risk-high",
        r if r >= 40.0 => "risk-medium",
        r if r >= 20.0 => "risk-low",
        _ => "risk-minimal",
    }
}

/// A horizontal bar chart: one bar per (label, value), scaled to the largest.
pub fn bars(title: &str, rows: &[(String, u64)], class: impl Fn(usize) -> &'static str) -> Markup {
    const ROW: usize = 26;
    const LABEL: usize = 170;
    const WIDTH: usize = 520;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let height = ROW * rows.len().max(1) + 8;
    html! {
        svg class="chart" role="img" viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) {
            title { (title) }
            @for (i, (label, value)) in rows.iter().enumerate() {
                @let y = i * ROW + 4;
                @let w = ((WIDTH - LABEL - 60) as f64 * (*value as f64) / (max as f64)).round() as usize;
                text x="0" y=(y + 16) class="chart-label" { (label) }
                rect x=(LABEL) y=(y + 3) width=(w.max(1)) height=(ROW - 8) class=(class(i)) rx="3" {}
                text x=(LABEL + w + 6) y=(y + 16) class="chart-value" { (value) }
            }
        }
    }
}

/// A line over time: one point per (instant, value), with the first and last values labelled.
pub fn trend(title: &str, points: &[(chrono::DateTime<chrono::Utc>, u64)]) -> Markup {
    const WIDTH: usize = 520;
    const HEIGHT: usize = 160;
    const PAD: usize = 30;
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1);
    let n = points.len();
    let at = |i: usize, v: u64| -> (f64, f64) {
        let x = if n > 1 {
            PAD as f64 + (WIDTH - 2 * PAD) as f64 * i as f64 / (n - 1) as f64
        } else {
            (WIDTH / 2) as f64
        };
        let y = (HEIGHT - PAD) as f64 - (HEIGHT - 2 * PAD) as f64 * v as f64 / max as f64;
        (x, y)
    };
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (x, y) = at(i, p.1);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    html! {
        svg class="chart" role="img" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) width=(WIDTH) height=(HEIGHT) {
            title { (title) }
            line x1=(PAD) y1=(HEIGHT - PAD) x2=(WIDTH - PAD) y2=(HEIGHT - PAD) class="axis" {}
            @if n > 1 {
                polyline points=(line.join(" ")) class="trend" {}
            }
            @for (i, (when, value)) in points.iter().enumerate() {
                @let (x, y) = at(i, *value);
                circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="3" class="trend-point" {
                    title { (when.format("%Y-%m-%d %H:%M")) ": " (value) " findings" }
                }
                @if i == 0 || i + 1 == n {
                    text x=(format!("{x:.1}")) y=(format!("{:.1}", y - 8.0)) class="chart-value" text-anchor="middle" { (value) }
                    text x=(format!("{x:.1}")) y=(HEIGHT - 10) class="chart-label" text-anchor="middle" { (when.format("%Y-%m-%d")) }
                }
            }
        }
    }
}

/// Severity columns in order, for stacked bars.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// Stacked horizontal bars: per row, a segment per severity.
pub fn stacked(title: &str, rows: &[(String, [u64; 5])]) -> Markup {
    const ROW: usize = 26;
    const LABEL: usize = 80;
    const WIDTH: usize = 520;
    let max = rows
        .iter()
        .map(|r| r.1.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let height = ROW * rows.len().max(1) + 30;
    let scale = (WIDTH - LABEL - 60) as f64 / max as f64;
    html! {
        svg class="chart" role="img" viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) {
            title { (title) }
            @for (i, (label, counts)) in rows.iter().enumerate() {
                @let y = i * ROW + 4;
                @let segments = segments(counts, LABEL as f64, scale);
                @let end = segments.last().map_or(LABEL as f64, |s| s.0 + s.1);
                text x="0" y=(y + 16) class="chart-label" { (label) }
                @for (x, w, s, n) in &segments {
                    rect x=(format!("{x:.1}")) y=(y + 3) width=(format!("{w:.1}")) height=(ROW - 8) class=(format!("sev-{s}")) {
                        title { (label) ": " (n) " " (s) }
                    }
                }
                text x=(format!("{:.1}", end + 6.0)) y=(y + 16) class="chart-value" { (counts.iter().sum::<u64>()) }
            }
            @let ly = rows.len() * ROW + 14;
            @for (s, name) in SEVERITIES.iter().enumerate() {
                rect x=(LABEL + s * 90) y=(ly) width="12" height="12" class=(format!("sev-{name}")) {}
                text x=(LABEL + s * 90 + 16) y=(ly + 11) class="chart-label" { (name) }
            }
        }
    }
}

/// (x, width, severity, count) of each non-empty segment of a stacked bar starting at `x0`.
fn segments(counts: &[u64; 5], x0: f64, scale: f64) -> Vec<(f64, f64, &'static str, u64)> {
    let mut x = x0;
    let mut out = Vec::new();
    for (n, severity) in counts.iter().zip(SEVERITIES) {
        if *n > 0 {
            let w = (*n as f64 * scale).max(2.0);
            out.push((x, w, severity, *n));
            x += w;
        }
    }
    out
}

/// A node of the graph.
struct Node {
    label: String,
    detail: String,
    class: &'static str,
    link: Option<String>,
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let tail: String = text
            .chars()
            .rev()
            .take(max - 1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    }
}

fn level_class(level: &str) -> &'static str {
    match level {
        "permissions_management" => "node-admin",
        "write" | "tagging" => "node-write",
        "read" => "node-read",
        _ => "node-list",
    }
}

/// Characters of a node's label: what fits a 210-pixel box at the graph's 12-pixel type (the
/// full text is in the node's tooltip).
const LABEL_MAX: usize = 26;

/// How many nodes a column shows before summarising the rest.
const COLUMN_MAX: usize = 14;

/// A column of the graph.
struct Column {
    heading: String,
    nodes: Vec<Node>,
}

/// An edge from node `from.1` of column `from.0` to node `to.1` of column `to.0`.
struct Edge {
    from: (usize, usize),
    to: (usize, usize),
    class: &'static str,
}

/// Columns of chain principals beyond the first hop, nearest first: each principal at its
/// distance (hop index) with the principal one hop nearer the identity, in chain order.
fn deeper_hops(chains: &[TrustChainDto], inward: bool) -> Vec<Vec<(&ChainHopDto, &str)>> {
    let mut columns: Vec<Vec<(&ChainHopDto, &str)>> = Vec::new();
    for chain in chains {
        let n = chain.hops.len();
        for (i, hop) in chain.hops.iter().enumerate() {
            // Inward chains end at the identity, outward ones start at it.
            let (depth, nearer) = if inward {
                (n - 1 - i, chain.hops.get(i + 1))
            } else {
                (i, i.checked_sub(1).and_then(|p| chain.hops.get(p)))
            };
            let Some(nearer) = nearer.filter(|_| depth >= 2) else {
                continue;
            };
            if columns.len() < depth - 1 {
                columns.resize_with(depth - 1, Vec::new);
            }
            if let Some(column) = columns.get_mut(depth - 2)
                && !column.iter().any(|(h, _)| h.id == hop.id)
            {
                column.push((hop, nearer.id.as_str()));
            }
        }
    }
    columns
}

/// Orders each column of [`deeper_hops`] by where the principal one hop nearer stands in the
/// column before (`first` for the first), so chain edges cross as little as they can.
fn order_by_nearer(columns: &mut [Vec<(&ChainHopDto, &str)>], first: Vec<&str>) {
    let mut previous: Vec<String> = first.into_iter().map(str::to_string).collect();
    for column in columns.iter_mut() {
        column.sort_by_key(|(_, nearer)| {
            previous
                .iter()
                .position(|p| p == nearer)
                .unwrap_or(usize::MAX)
        });
        previous = column.iter().map(|(h, _)| h.id.clone()).collect();
    }
}

/// A chain principal's node: coloured by its risk when assessed, linked when it is an identity
/// of the inventory.
fn hop_node(hop: &ChainHopDto, inward: bool, link: &impl Fn(&str) -> String) -> Node {
    let label = hop.name.clone().unwrap_or_else(|| hop.id.clone());
    let risk = hop
        .risk
        .map(|r| format!(", risk {r:.1}"))
        .unwrap_or_default();
    let kind = hop
        .kind
        .as_deref()
        .unwrap_or(&hop.principal)
        .replace('_', " ");
    let via = hop.via.as_deref().unwrap_or("become");
    Node {
        label: short(&label, LABEL_MAX),
        detail: if inward {
            format!("{} ({kind}{risk}) can become the next hop", hop.id)
        } else {
            format!("{} ({kind}{risk}), reached by {via}", hop.id)
        },
        class: hop.risk.map_or("node-principal", risk_class),
        link: hop.kind.is_some().then(|| link(&hop.id)),
    }
}

/// The blast-radius graph of one identity: who can become it (chains of several hops reach
/// further left) → it → its credentials, policies and the identities it can become (chains
/// continue right) → the resources it reaches. Nodes link to their identity's page where they
/// are identities; principals on chains are coloured by their risk.
pub fn blast_radius(detail: &IdentityDetailDto, link: impl Fn(&str) -> String) -> Markup {
    let me = &detail.identity;
    // The one-hop nodes are on chains too: their names and risks come from there.
    let on_chains: HashMap<&str, &ChainHopDto> = detail
        .chains_in
        .iter()
        .chain(&detail.chains_out)
        .flat_map(|c| &c.hops)
        .map(|h| (h.id.as_str(), h))
        .collect();
    let class_of = |id: &str| {
        on_chains
            .get(id)
            .and_then(|h| h.risk)
            .map_or("node-principal", risk_class)
    };
    let label_of = |id: &str| {
        let name = on_chains.get(id).and_then(|h| h.name.as_deref());
        short(name.unwrap_or(id), LABEL_MAX)
    };
    let incoming: Vec<Node> = detail
        .trust_in
        .iter()
        .map(|t| Node {
            label: label_of(&t.from),
            detail: format!("{} ({}) can {} this identity", t.from, t.from_kind, t.kind),
            class: class_of(&t.from),
            link: (t.from_kind == "identity" || t.from.starts_with("arn:")).then(|| link(&t.from)),
        })
        .collect();
    let mut middle: Vec<Node> = detail
        .credentials
        .iter()
        .map(|c| Node {
            label: short(
                &format!("{} {}", c.kind, c.preview.clone().unwrap_or_default()),
                LABEL_MAX,
            ),
            detail: format!(
                "credential {} ({}), {}",
                c.id,
                c.kind,
                if c.active { "active" } else { "inactive" }
            ),
            class: if c.active {
                "node-credential"
            } else {
                "node-inactive"
            },
            link: None,
        })
        .collect();
    middle.extend(detail.policies.iter().map(|p| Node {
        label: short(&p.name, LABEL_MAX),
        detail: format!(
            "policy {} ({}), {} statement(s)",
            p.id, p.kind, p.statements
        ),
        class: "node-policy",
        link: None,
    }));
    let first_out = middle.len();
    middle.extend(detail.trust_out.iter().map(|t| Node {
        label: label_of(&t.to),
        detail: format!("this identity can {} {}", t.kind, t.to),
        class: class_of(&t.to),
        link: Some(link(&t.to)),
    }));
    let outgoing: Vec<Node> = detail
        .privilege
        .resources
        .iter()
        .map(|r| Node {
            label: short(&r.resource, LABEL_MAX),
            detail: format!("{} access to {} ({})", r.level, r.resource, r.service),
            class: level_class(&r.level),
            link: None,
        })
        .collect();
    let centre = Node {
        label: short(&me.name, LABEL_MAX),
        detail: format!("{} — risk {:.1}", me.id, me.risk),
        class: risk_class(me.risk),
        link: None,
    };

    // Columns left to right: the farthest who-can-become-it hops first, …, the identity, what
    // it holds, whom it can become further away, what it reaches.
    let mut deeper_in = deeper_hops(&detail.chains_in, true);
    let mut deeper_out = deeper_hops(&detail.chains_out, false);
    order_by_nearer(
        &mut deeper_in,
        detail.trust_in.iter().map(|t| t.from.as_str()).collect(),
    );
    order_by_nearer(
        &mut deeper_out,
        detail.trust_out.iter().map(|t| t.to.as_str()).collect(),
    );
    let mut columns: Vec<Column> = Vec::new();
    for (d, hops) in deeper_in.iter().enumerate().rev() {
        columns.push(Column {
            heading: format!("can become it, {} hops", d + 2),
            nodes: hops.iter().map(|(h, _)| hop_node(h, true, &link)).collect(),
        });
    }
    let in1 = columns.len();
    columns.push(Column {
        heading: "can become it".into(),
        nodes: incoming,
    });
    let centre_col = columns.len();
    columns.push(Column {
        heading: "identity".into(),
        nodes: vec![centre],
    });
    let middle_col = columns.len();
    columns.push(Column {
        heading: "credentials, policies, can become".into(),
        nodes: middle,
    });
    for (d, hops) in deeper_out.iter().enumerate() {
        columns.push(Column {
            heading: format!("can become, {} hops", d + 2),
            nodes: hops
                .iter()
                .map(|(h, _)| hop_node(h, false, &link))
                .collect(),
        });
    }
    let reach_col = columns.len();
    columns.push(Column {
        heading: "can reach".into(),
        nodes: outgoing,
    });

    // Where each principal stands, to draw chain edges hop to hop.
    let index = |col: usize, id: &str| -> Option<usize> {
        if col == in1 {
            detail.trust_in.iter().position(|t| t.from == id)
        } else if col == middle_col {
            (detail.trust_out.iter().position(|t| t.to == id)).map(|i| first_out + i)
        } else {
            let hops = if col < in1 {
                deeper_in.get(in1 - col - 1)
            } else {
                deeper_out.get(col - middle_col - 1)
            };
            hops.and_then(|h| h.iter().position(|(hop, _)| hop.id == id))
        }
    };
    let fan = |col: usize| {
        0..columns
            .get(col)
            .map_or(0, |c| c.nodes.len().min(COLUMN_MAX + 1))
    };
    let mut edges: Vec<Edge> = Vec::new();
    edges.extend(fan(in1).map(|i| Edge {
        from: (in1, i),
        to: (centre_col, 0),
        class: "edge",
    }));
    edges.extend(fan(middle_col).map(|i| Edge {
        from: (centre_col, 0),
        to: (middle_col, i),
        class: "edge",
    }));
    edges.extend(fan(reach_col).map(|i| Edge {
        from: (centre_col, 0),
        to: (reach_col, i),
        class: "edge edge-reach",
    }));
    for (d, hops) in deeper_in.iter().enumerate() {
        let col = in1 - d - 1;
        for (i, (_, nearer)) in hops.iter().enumerate() {
            if let Some(j) = index(col + 1, nearer) {
                edges.push(Edge {
                    from: (col, i),
                    to: (col + 1, j),
                    class: "edge edge-chain",
                });
            }
        }
    }
    for (d, hops) in deeper_out.iter().enumerate() {
        let col = middle_col + d + 1;
        for (i, (_, nearer)) in hops.iter().enumerate() {
            if let Some(j) = index(col - 1, nearer) {
                edges.push(Edge {
                    from: (col - 1, j),
                    to: (col, i),
                    class: "edge edge-chain",
                });
            }
        }
    }

    const COL_W: usize = 250;
    const NODE_W: usize = 210;
    const ROW_H: usize = 34;
    let rows = columns
        .iter()
        .map(|c| c.nodes.len().min(COLUMN_MAX + 1))
        .max()
        .unwrap_or(1)
        .max(1);
    let height = rows * ROW_H + 40;
    let width = COL_W * columns.len();
    // Positions of the shown nodes: (x, y) of each node's centre-left, per column; nodes past
    // the cap share the summary's row.
    let place = |col: usize, i: usize| -> (usize, usize) {
        let n = columns.get(col).map_or(1, |c| c.nodes.len());
        let shown = n.clamp(1, COLUMN_MAX + 1);
        let top = (height - 40 - shown * ROW_H) / 2 + 30;
        (
            col * COL_W + 10,
            top + i.min(COLUMN_MAX) * ROW_H + ROW_H / 2,
        )
    };
    html! {
        svg class="graph" role="img" viewBox=(format!("0 0 {width} {height}")) width=(width) height=(height)
            aria-labelledby="graph-title" {
            title id="graph-title" { "Blast radius of " (me.name) }
            @for (col, column) in columns.iter().enumerate() {
                text x=(col * COL_W + 10) y="16" class="graph-heading" { (column.heading) }
            }
            // Edges first, under the nodes.
            @for edge in &edges {
                @let (x1, y1) = place(edge.from.0, edge.from.1);
                @let (x2, y2) = place(edge.to.0, edge.to.1);
                line x1=(x1 + NODE_W) y1=(y1) x2=(x2) y2=(y2) class=(edge.class) {}
            }
            @for (col, column) in columns.iter().enumerate() {
                @let nodes = &column.nodes;
                @for (i, node) in nodes.iter().take(COLUMN_MAX).enumerate() {
                    @let (x, y) = place(col, i);
                    @let body = html! {
                        g class=(format!("node {}", node.class)) tabindex="0" {
                            title { (node.detail) }
                            rect x=(x) y=(y - 12) width=(NODE_W) height="24" rx="5" {}
                            text x=(x + 8) y=(y + 4) { (node.label) }
                        }
                    };
                    @if let Some(href) = &node.link {
                        a href=(href) { (body) }
                    } @else {
                        (body)
                    }
                }
                @if nodes.len() > COLUMN_MAX {
                    @let (x, y) = place(col, COLUMN_MAX);
                    text x=(x + 8) y=(y + 4) class="graph-more" { "… and " (nodes.len() - COLUMN_MAX) " more" }
                }
            }
        }
    }
}

/// Whether the graph has columns beyond the usual four (trust chains of several hops), and so
/// is wider than a page.
pub fn is_wide(detail: &IdentityDetailDto) -> bool {
    detail
        .chains_in
        .iter()
        .chain(&detail.chains_out)
        .any(|c| c.hops.len() > 2)
}
