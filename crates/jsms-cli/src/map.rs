//! `jsms map import` and `jsms route`: the road network from an OpenStreetMap extract, and
//! fastest routes over it.

use crate::Failure;
use crate::config::{self, Overrides};
use jsms_routing::dijkstra::Dijkstra;
use jsms_routing::graph::Graph;
use jsms_routing::import::{ImportReport, Progress, import};
use jsms_routing::snap::SnapIndex;
use jsms_server::instance::DataDir;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `jsms map` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum MapCommand {
    /// Import an OpenStreetMap PBF extract as the instance's road network. A broken file
    /// leaves the previous map in place.
    Import {
        /// The `.osm.pbf` file.
        file: PathBuf,
        /// The instance's data directory (or JSMS_DATA_DIR, or data_dir in --config).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Arguments of `jsms route`.
#[derive(Debug, clap::Args)]
pub struct RouteArgs {
    /// Start, as LAT,LON.
    #[arg(long)]
    from: String,
    /// Destination, as LAT,LON.
    #[arg(long)]
    to: String,
    /// The instance's data directory (or JSMS_DATA_DIR, or data_dir in --config).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Configuration file (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Farthest an end may be from the network, metres.
pub const MAX_SNAP_M: f64 = 500.0;

fn dir(data_dir: Option<PathBuf>, config: Option<&Path>) -> Result<DataDir, Failure> {
    let file = config::read_file(config)?;
    let cfg = config::resolve(&file, Overrides { data_dir, addr: None })?;
    Ok(DataDir::new(cfg.data_dir))
}

/// Imports `file` and writes the graph atomically to `target`.
pub fn import_file(
    file: &Path,
    target: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Graph, ImportReport), Failure> {
    let f = std::fs::File::open(file).map_err(|e| Failure::config(format!("{}: {e}", file.display())))?;
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    let (graph, report) = import(std::io::BufReader::new(f), total, progress)
        .map_err(|e| Failure::config(format!("{}: {e}", file.display())))?;
    let parent = target
        .parent()
        .ok_or_else(|| Failure::config("the map path has no directory"))?;
    std::fs::create_dir_all(parent).map_err(|e| Failure::runtime(format!("{}: {e}", parent.display())))?;
    let tmp = target.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut out = std::fs::File::create(&tmp)?;
        out.write_all(&graph.to_bytes())?;
        out.sync_all()?;
        std::fs::rename(&tmp, target)?;
        std::fs::File::open(parent)?.sync_all()
    };
    write().map_err(|e| Failure::runtime(format!("{}: {e}", target.display())))?;
    Ok((graph, report))
}

/// Loads the imported graph.
pub fn load(dir: &DataDir) -> Result<Graph, Failure> {
    let path = dir.road_graph();
    let bytes = std::fs::read(&path).map_err(|_| {
        Failure::config(format!(
            "no road network in {}: run `jsms map import FILE.osm.pbf` first",
            dir.root().display()
        ))
    })?;
    Graph::from_bytes(&bytes).map_err(|e| Failure::config(format!("{}: {e}", path.display())))
}

fn bar(p: Progress) {
    let pct = (p.done * 100).checked_div(p.total).unwrap_or(100);
    let filled = (pct / 4) as usize;
    eprint!(
        "\rimporting [{}{}] {pct:3}%",
        "#".repeat(filled),
        " ".repeat(25 - filled.min(25))
    );
    if p.done >= p.total {
        eprintln!();
    }
}

/// Runs `jsms map …`.
pub fn run(command: MapCommand) -> Result<(), Failure> {
    match command {
        MapCommand::Import { file, data_dir, config } => {
            let dir = dir(data_dir, config.as_deref())?;
            if !dir.root().is_dir() {
                return Err(Failure::config(format!(
                    "{} does not exist; run `jsms init` first",
                    dir.root().display()
                )));
            }
            let started = std::time::Instant::now();
            let (g, r) = import_file(&file, &dir.road_graph(), &mut bar)?;
            let (a, b, c, d) = g.bbox();
            println!(
                "Imported {} in {:.1} s",
                file.display(),
                started.elapsed().as_secs_f64()
            );
            println!(
                "  read: {} nodes, {} ways ({} drivable)",
                r.osm_nodes, r.osm_ways, r.drivable_ways
            );
            println!(
                "  graph: {} nodes, {} directed edges, {} road names",
                g.node_count(),
                g.edge_count(),
                g.names.len() - 1
            );
            println!("  bounding box: {a:.5},{b:.5} – {c:.5},{d:.5} (lat,lon)");
            println!(
                "  dropped: {} nodes outside the largest of {} strongly connected components; {} segments with nodes missing from the file",
                r.dropped_nodes, r.components, r.missing_nodes
            );
            Ok(())
        }
    }
}

fn parse_point(flag: &str, text: &str) -> Result<(f64, f64), Failure> {
    let bad = || Failure {
        code: 2,
        message: format!("--{flag} {text:?}: expected LAT,LON in degrees, e.g. 24.8607,67.0011"),
    };
    let (a, b) = text.split_once(',').ok_or_else(bad)?;
    let (lat, lon): (f64, f64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    jsms_domain::geo::Coordinate::new(lat, lon).map_err(|e| Failure {
        code: 2,
        message: format!("--{flag}: {}", e.message),
    })?;
    Ok((lat, lon))
}

/// Runs `jsms route`: the fastest route, printed as a GeoJSON Feature.
pub fn route(args: RouteArgs) -> Result<(), Failure> {
    let from = parse_point("from", &args.from)?;
    let to = parse_point("to", &args.to)?;
    let dir = dir(args.data_dir, args.config.as_deref())?;
    let g = load(&dir)?;
    let index = SnapIndex::new(&g);
    let snap = |name: &str, (lat, lon): (f64, f64)| {
        index.nearest(&g, lat, lon, MAX_SNAP_M).map_err(|d| {
            let how_far = d.map_or_else(
                || "the map is empty".to_owned(),
                |d| format!("the nearest road is {d:.0} m away"),
            );
            Failure::config(format!(
                "--{name} {lat},{lon} is farther than {MAX_SNAP_M:.0} m from any road: {how_far}"
            ))
        })
    };
    let (s, _) = snap("from", from)?;
    let (t, _) = snap("to", to)?;
    let path = Dijkstra::new(g.node_count())
        .run(&g, s, t, |e| u64::from(g.edge_time_ms(e)))
        .ok_or_else(|| Failure::not_found("no route connects the two points"))?;
    let coords: Vec<serde_json::Value> = path
        .nodes
        .iter()
        .map(|&n| {
            let (lat, lon) = g.coordinate(n);
            serde_json::json!([lon, lat])
        })
        .collect();
    // Consecutive edges on the same road form one segment.
    let mut segments: Vec<serde_json::Value> = Vec::new();
    let mut current: Option<(&str, u64, u64)> = None;
    let flush = |cur: Option<(&str, u64, u64)>, segments: &mut Vec<serde_json::Value>| {
        if let Some((name, dm, ms)) = cur {
            segments.push(serde_json::json!({
                "road": name,
                "distance_m": dm as f64 / 10.0,
                "duration_s": ms as f64 / 1000.0,
            }));
        }
    };
    for &e in &path.edges {
        let (name, dm, ms) = (
            g.edge_name(e),
            u64::from(g.edge_length_dm(e)),
            u64::from(g.edge_time_ms(e)),
        );
        current = match current {
            Some((n, d, t)) if n == name => Some((n, d + dm, t + ms)),
            other => {
                flush(other, &mut segments);
                Some((name, dm, ms))
            }
        };
    }
    flush(current, &mut segments);
    let distance_dm: u64 = path.edges.iter().map(|&e| u64::from(g.edge_length_dm(e))).sum();
    let feature = serde_json::json!({
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {
            "profile": "fastest",
            "duration_s": path.cost as f64 / 1000.0,
            "distance_m": distance_dm as f64 / 10.0,
            "segments": segments,
        }
    });
    println!("{}", serde_json::to_string_pretty(&feature).map_err(Failure::runtime)?);
    Ok(())
}
