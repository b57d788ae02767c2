//! `jsms map import` and `jsms route`: the road network from an OpenStreetMap extract (with
//! the node order of its routing hierarchy), and risk-aware routes over it.

use crate::Failure;
use crate::config::{self, Overrides};
use jsms_domain::geo::Coordinate;
use jsms_routing::graph::Graph;
use jsms_routing::import::{ImportReport, Progress, import};
use jsms_server::instance::DataDir;
use jsms_server::planning::{
    EmptyFeed, MAX_ALTERNATIVES, PlanInput, Profile, load_network, plan_heading, write_atomically,
};
use jsms_store::ZoneStore;
use std::path::{Path, PathBuf};

/// `jsms map` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum MapCommand {
    /// Import an OpenStreetMap PBF extract as the instance's road network. A broken file
    /// leaves the previous map in place; so does a file that looks cut short, or one much
    /// smaller than the current map, unless --replace is given.
    Import {
        /// The `.osm.pbf` file.
        file: PathBuf,
        /// Replace the current map even with one that looks cut short or holds less than
        /// half of its roads.
        #[arg(long)]
        replace: bool,
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
    /// What to optimise: fastest, safest or balanced.
    #[arg(long, default_value = "balanced")]
    profile: String,
    /// How many routes (1–5): alternatives that are really different and reasonable.
    #[arg(long, default_value_t = 1)]
    alternatives: u8,
    /// Departure time (RFC 3339; default now): the zones active then count.
    #[arg(long)]
    depart_at: Option<String>,
    /// For --profile balanced: seconds of risk per second of driving (0–10, default 1).
    #[arg(long)]
    risk_weight: Option<f64>,
    /// Pick the recommended route at random among the acceptable ones.
    #[arg(long)]
    unpredictable: bool,
    /// Direction of travel at the start, degrees clockwise from north (0–360): leave along
    /// a road direction within 60° of it.
    #[arg(long)]
    heading: Option<f64>,
    /// The instance's data directory (or JSMS_DATA_DIR, or data_dir in --config).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Configuration file (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
}

fn dir(data_dir: Option<PathBuf>, config: Option<&Path>) -> Result<DataDir, Failure> {
    let file = config::read_file(config)?;
    let cfg = config::resolve(&file, Overrides { data_dir, addr: None })?;
    Ok(DataDir::new(cfg.data_dir))
}

/// Imports `file` and writes the graph atomically to `target`, with the order of its
/// routing hierarchy beside it. The current map is kept when the new one looks cut short or
/// holds less than half of its road segments, unless `replace`.
pub fn import_file(
    file: &Path,
    target: &Path,
    replace: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Graph, ImportReport), Failure> {
    let f = std::fs::File::open(file).map_err(|e| Failure::config(format!("{}: {e}", file.display())))?;
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    let (graph, report) = import(std::io::BufReader::new(f), total, progress)
        .map_err(|e| Failure::config(format!("{}: {e}", file.display())))?;
    if !replace && let Ok(current) = std::fs::read(target).map(|b| Graph::from_bytes(&b)) {
        let current_segments = current.map_or(0, |g| g.edge_count());
        let smaller = graph.edge_count() * 2 < current_segments;
        if smaller || !report.warnings.is_empty() {
            let mut why: Vec<String> = report.warnings.clone();
            if smaller {
                why.push(format!(
                    "it holds {} road segments against {current_segments} in the current map",
                    graph.edge_count()
                ));
            }
            return Err(Failure::config(format!(
                "{}: the current map was kept: {}. Read: {} nodes, {} ways ({} drivable), {} relations. Pass --replace to use this file anyway.",
                file.display(),
                why.join("; "),
                report.osm_nodes,
                report.osm_ways,
                report.drivable_ways,
                report.osm_relations
            )));
        }
    }
    let parent = target
        .parent()
        .ok_or_else(|| Failure::config("the map path has no directory"))?;
    std::fs::create_dir_all(parent).map_err(|e| Failure::runtime(format!("{}: {e}", parent.display())))?;
    let bytes = graph.to_bytes();
    write_atomically(target, &bytes).map_err(|e| Failure::runtime(format!("{}: {e}", target.display())))?;
    // The hierarchy's order depends only on the map: computed once, here.
    let order = jsms_routing::order::turn_order(&graph);
    let digest = jsms_server::planning::graph_digest(&bytes);
    let order_file = jsms_server::planning::order_path(target);
    write_atomically(&order_file, &jsms_routing::order::encode(&order, &digest))
        .map_err(|e| Failure::runtime(format!("{}: {e}", order_file.display())))?;
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

fn bar(p: &Progress) {
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
        MapCommand::Import {
            file,
            replace,
            data_dir,
            config,
        } => {
            let dir = dir(data_dir, config.as_deref())?;
            if !dir.root().is_dir() {
                return Err(Failure::config(format!(
                    "{} does not exist; run `jsms init` first",
                    dir.root().display()
                )));
            }
            let started = std::time::Instant::now();
            let mut open = false;
            let result = import_file(&file, &dir.road_graph(), replace, &mut |p| {
                bar(&p);
                open = p.done < p.total;
            });
            if open {
                // End the progress bar's line: the error goes on its own.
                eprintln!();
            }
            let (g, r) = result?;
            let (parts, main_share) = jsms_routing::turns::component_summary(&g);
            let (a, b, c, d) = g.bbox();
            println!(
                "Imported {} in {:.1} s",
                file.display(),
                started.elapsed().as_secs_f64()
            );
            println!(
                "  read: {} nodes, {} ways ({} drivable by car, {} restricted to trip ends, {} excluded), {} relations",
                r.osm_nodes, r.osm_ways, r.drivable_ways, r.restricted_ways, r.excluded_ways, r.osm_relations
            );
            println!(
                "  graph: {} nodes, {} road segments, {} road names; {} chains and {} turns ({}-hand traffic turn costs)",
                g.node_count(),
                g.edge_count(),
                g.names.len() - 1,
                r.chains,
                r.turns,
                if r.left_hand_traffic { "left" } else { "right" }
            );
            println!(
                "  turn restrictions for cars: {} read, {} applied, {} moot (forbidding nothing drivable), {} unresolved (ways missing or not meeting), {} conditional ignored",
                r.restrictions,
                r.restrictions_applied,
                r.restrictions_moot,
                r.restrictions_unresolved,
                r.restrictions_conditional
            );
            println!(
                "  barriers: {} blocking, {} passable only at trip ends (private gates)",
                r.blocking_barriers, r.restricted_barriers
            );
            println!("  bounding box: {a:.5},{b:.5} – {c:.5},{d:.5} (lat,lon)");
            println!(
                "  {parts} strongly connected components (all kept), the largest holding {:.1} % of the road length; {} segments with nodes missing from the file",
                main_share * 100.0,
                r.missing_nodes
            );
            for w in &r.warnings {
                println!("  warning: {w}");
            }
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

/// Runs `jsms route`: routes under the instance's threat zones, printed as a GeoJSON
/// FeatureCollection (the same planner as `POST /api/v1/routes`).
pub fn route(args: RouteArgs) -> Result<(), Failure> {
    let usage = |message: String| Failure { code: 2, message };
    let from = parse_point("from", &args.from)?;
    let to = parse_point("to", &args.to)?;
    let profile = Profile::parse(&args.profile).ok_or_else(|| {
        usage(format!(
            "--profile {:?}: one of fastest, safest, balanced",
            args.profile
        ))
    })?;
    if !(1..=MAX_ALTERNATIVES).contains(&args.alternatives) {
        return Err(usage(format!(
            "--alternatives {}: between 1 and {MAX_ALTERNATIVES}",
            args.alternatives
        )));
    }
    let risk_weight = match (args.risk_weight, profile) {
        (None, _) => 1.0,
        (Some(w), Profile::Balanced) if (0.0..=10.0).contains(&w) => w,
        (Some(w), Profile::Balanced) => return Err(usage(format!("--risk-weight {w}: between 0 and 10"))),
        (Some(_), _) => return Err(usage("--risk-weight goes with --profile balanced only".into())),
    };
    if let Some(h) = args.heading
        && !(0.0..=360.0).contains(&h)
    {
        return Err(usage(format!("--heading {h}: degrees clockwise from north, 0 to 360")));
    }
    let depart = match &args.depart_at {
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map(|d| d.unix_timestamp())
            .map_err(|_| {
                usage(format!(
                    "--depart-at {t:?}: an RFC 3339 time, e.g. 2026-12-01T08:00:00Z"
                ))
            })?,
    };
    let file = config::read_file(args.config.as_deref())?;
    let cfg = config::resolve(
        &file,
        Overrides {
            data_dir: args.data_dir,
            addr: None,
        },
    )?;
    let dir = DataDir::new(&cfg.data_dir);
    load(&dir)?;
    let network = load_network(&dir.road_graph()).ok_or_else(|| {
        Failure::config(format!(
            "{}: the road network cannot be read",
            dir.road_graph().display()
        ))
    })?;
    let zones = dir.open_store(&cfg.key_source)?.zones().map_err(Failure::runtime)?;
    let coordinate = |(lat, lon): (f64, f64)| Coordinate::new(lat, lon).map_err(|e| usage(e.message));
    let input = PlanInput {
        from: coordinate(from)?,
        to: coordinate(to)?,
        profile,
        risk_weight,
        depart,
        alternatives: args.alternatives,
        unpredictable: args.unpredictable,
    };
    let routes = plan_heading(&network, &zones, &EmptyFeed, &input, args.heading).map_err(|e| match e {
        jsms_service::Error::Validation(v) => {
            Failure::config(format!("--{} {}", v.field.trim_start_matches('/'), v.message))
        }
        jsms_service::Error::Conflict(m) => Failure::not_found(m),
        other => Failure::runtime(other),
    })?;
    println!("{}", serde_json::to_string_pretty(&routes).map_err(Failure::runtime)?);
    Ok(())
}
