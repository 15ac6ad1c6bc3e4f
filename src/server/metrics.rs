//! What `GET /metrics` reports, in the Prometheus text format (prometheus-client): requests by
//! route and status, how long queries and writes took, connections accepted and refused,
//! the latest transaction, and the graph's size.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::limits::ConnectionCounters;

type Labels = Vec<(String, String)>;

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    durations: Family<Labels, Histogram>,
    head: Gauge,
    nodes: Gauge,
    edges: Gauge,
    accepted: Counter,
    refused: Counter,
    connections: Arc<ConnectionCounters>,
}

fn histogram() -> Histogram {
    // 50 µs to about 26 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 20))
}

impl Metrics {
    /// Registers the metrics.
    pub fn new(connections: Arc<ConnectionCounters>) -> Metrics {
        let mut registry = Registry::with_prefix("diplograph");
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        let durations = Family::<Labels, Histogram>::new_with_constructor(histogram as fn() -> _);
        registry.register(
            "request_duration_seconds",
            "How long requests took to answer, by route",
            durations.clone(),
        );
        let head = Gauge::default();
        registry.register("head_tx", "The latest committed transaction", head.clone());
        let nodes = Gauge::default();
        registry.register("nodes", "Nodes in the latest view", nodes.clone());
        let edges = Gauge::default();
        registry.register("edges", "Relationships in the latest view", edges.clone());
        let accepted = Counter::default();
        registry.register(
            "connections_accepted",
            "Connections accepted",
            accepted.clone(),
        );
        let refused = Counter::default();
        registry.register(
            "connections_refused",
            "Connections refused over the connection limit",
            refused.clone(),
        );
        Metrics {
            registry,
            requests,
            durations,
            head,
            nodes,
            edges,
            accepted,
            refused,
            connections,
        }
    }

    /// Counts a request.
    pub fn observe(&self, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&vec![
                ("route".to_owned(), route.to_owned()),
                ("status".to_owned(), status.to_string()),
            ])
            .inc();
        self.durations
            .get_or_create(&vec![("route".to_owned(), route.to_owned())])
            .observe(seconds);
    }

    /// The text exposition, with the gauges brought up to date.
    pub fn render(&self, head: u64, nodes: usize, edges: usize) -> String {
        let int = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        self.head.set(int(head));
        self.nodes.set(int(nodes as u64));
        self.edges.set(int(edges as u64));
        // Counters only go up: bring them to the listener's counts.
        let catch_up = |c: &Counter, to: u64| {
            let now = c.get();
            if to > now {
                c.inc_by(to - now);
            }
        };
        catch_up(
            &self.accepted,
            self.connections.accepted.load(Ordering::Relaxed),
        );
        catch_up(
            &self.refused,
            self.connections.refused.load(Ordering::Relaxed),
        );
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.push_str("# the metrics could not be encoded\n");
        }
        out
    }
}
