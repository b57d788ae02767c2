//! `jsms demo`: a complete fictional scenario on the Karachi old-city map, served on
//! 127.0.0.1 with one printed login per role. Every name here is invented; no real person
//! or organisation is depicted.

use crate::Failure;
use crate::init::{Login, PartySpec, check_parties, create_parties, generate_password};
use crate::serve;
use jsms_domain::geo::{Coordinate, Polygon};
use jsms_domain::ids::{OrgId, PartyId};
use jsms_domain::intel::{Grading, Marking, Tlp};
use jsms_domain::registry::{
    PersonDraft, PersonStatus, PersonalData, ProtectionLevel, SecurityPosture, SiteDraft, SiteKind,
};
use jsms_domain::user::{
    Clearance, Compartment, OrgKind, OrganisationDraft, PartyCode, PartyKind, Role, UserProfile, Username,
};
use jsms_identity::password;
use jsms_identity::totp::TotpSecret;
use jsms_server::config::{KeySource, ServerConfig};
use jsms_server::instance::DataDir;
use jsms_store::{IntelStore, NewUser, SqliteStore, Store};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Arguments of `jsms demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Keep the demo instance in this (new) directory instead of a temporary one that is
    /// deleted at exit.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

fn fail(e: impl std::fmt::Display) -> Failure {
    Failure::runtime(e)
}

struct Seeder<'a> {
    store: &'a SqliteStore,
    now: i64,
    logins: Vec<Login>,
}

impl Seeder<'_> {
    fn org(&self, party: PartyId, name: &str, kind: OrgKind) -> Result<OrgId, Failure> {
        let draft = OrganisationDraft::new(name, kind).map_err(fail)?;
        Ok(self.store.create_org(party, &draft, self.now).map_err(fail)?.id)
    }

    #[allow(clippy::too_many_arguments)]
    fn user(
        &mut self,
        party: PartyKind,
        org: OrgId,
        username: &str,
        display: &str,
        role: Role,
        clearance: Clearance,
        compartments: &[&str],
        print: bool,
    ) -> Result<jsms_domain::ids::UserId, Failure> {
        let pw = generate_password()?;
        let secret = TotpSecret::generate().map_err(fail)?;
        let compartments = compartments
            .iter()
            .map(|c| Compartment::parse(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        let profile = UserProfile::new(display, vec![role], clearance, compartments, party).map_err(fail)?;
        let user = NewUser {
            org_id: org,
            username: Username::parse(username).map_err(fail)?,
            profile,
            password_hash: password::hash(&pw).map_err(fail)?,
            enrolled_totp: Some(secret.clone()),
        };
        let created = self.store.create_user(&user, self.now).map_err(fail)?;
        self.logins.push(Login {
            role: role.as_str().to_owned(),
            username: username.to_owned(),
            password: pw,
            totp_secret: Some(secret.to_base32()),
            shown: print,
        });
        Ok(created.id)
    }
}

fn point(lat: f64, lon: f64) -> Result<Coordinate, Failure> {
    Coordinate::new(lat, lon).map_err(fail)
}

/// Seeds the fictional scenario into a fresh instance. Returns every login created.
pub fn seed(store: &SqliteStore, now: i64) -> Result<Vec<Login>, Failure> {
    let parties = vec![
        PartySpec {
            code: PartyCode::parse("HN").map_err(fail)?,
            kind: PartyKind::Host,
            name: "Host Nation".into(),
        },
        PartySpec {
            code: PartyCode::parse("PN").map_err(fail)?,
            kind: PartyKind::Partner,
            name: "Partner Nation".into(),
        },
    ];
    check_parties(&parties)?;
    let (ids, admin_logins) = create_parties(store, &parties, now)?;
    let (Some(&host), Some(&partner)) = (ids.first(), ids.get(1)) else {
        return Err(Failure::runtime("party creation returned no ids"));
    };
    // The demo prints the administrators with the others; they enrol TOTP at first sign-in.
    let mut s = Seeder {
        store,
        now,
        logins: Vec::new(),
    };

    let directorate = s.org(host, "Provincial Security Directorate", OrgKind::Agency)?;
    let protection_unit = s.org(host, "Special Protection Unit", OrgKind::Agency)?;
    let host_intel = s.org(host, "Threat Assessment Cell", OrgKind::Agency)?;
    let host_oversight = s.org(host, "Inspectorate of Security Services", OrgKind::Agency)?;
    let embassy = s.org(partner, "Partner Embassy — Security Office", OrgKind::EmbassyOffice)?;
    let bridgeworks = s.org(partner, "Indus Bridgeworks Ltd (fictional)", OrgKind::Company)?;
    let harbour = s.org(partner, "Harbour Power Consortium (fictional)", OrgKind::Company)?;

    use Clearance::{Confidential, Restricted, Secret};
    s.user(
        PartyKind::Host,
        directorate,
        "hn.coordinator",
        "Coordinator Amina Rehmat",
        Role::MovementCoordinator,
        Secret,
        &["karachi-ops"],
        true,
    )?;
    s.user(
        PartyKind::Host,
        directorate,
        "hn.coordinator2",
        "Coordinator Bilal Soomro",
        Role::MovementCoordinator,
        Secret,
        &["karachi-ops"],
        false,
    )?;
    let escort = s.user(
        PartyKind::Host,
        protection_unit,
        "hn.escort",
        "Inspector Tariq Baloch",
        Role::EscortCommander,
        Confidential,
        &["karachi-ops"],
        true,
    )?;
    let host_analyst = s.user(
        PartyKind::Host,
        host_intel,
        "hn.analyst",
        "Analyst Sana Mirza",
        Role::IntelligenceAnalyst,
        Secret,
        &[],
        true,
    )?;
    s.user(
        PartyKind::Host,
        host_oversight,
        "hn.auditor",
        "Auditor Farah Qazi",
        Role::Auditor,
        Secret,
        &[],
        true,
    )?;
    s.user(
        PartyKind::Partner,
        embassy,
        "pn.liaison",
        "Liaison Officer Hu Jianing",
        Role::LiaisonOfficer,
        Confidential,
        &[],
        true,
    )?;
    s.user(
        PartyKind::Partner,
        bridgeworks,
        "pn.officer",
        "Security Officer Tang Wenjie",
        Role::CompanySecurityOfficer,
        Restricted,
        &[],
        true,
    )?;
    s.user(
        PartyKind::Partner,
        harbour,
        "pn.officer2",
        "Security Officer Luo Xinyi",
        Role::CompanySecurityOfficer,
        Restricted,
        &[],
        false,
    )?;
    let partner_analyst = s.user(
        PartyKind::Partner,
        embassy,
        "pn.analyst",
        "Analyst Pei Shuang",
        Role::IntelligenceAnalyst,
        Confidential,
        &[],
        false,
    )?;
    s.user(
        PartyKind::Partner,
        embassy,
        "pn.auditor",
        "Auditor Qian Yutong",
        Role::Auditor,
        Confidential,
        &[],
        false,
    )?;

    // Sites inside the Karachi old-city extract (66.9832,24.8488 – 67.0159,24.8795).
    let site = |owner, name: &str, kind, lat, lon, perimeter: Option<Vec<[f64; 2]>>, posture| -> Result<_, Failure> {
        let perimeter = perimeter
            .map(|p| Polygon::from_positions(&p))
            .transpose()
            .map_err(fail)?;
        let draft = SiteDraft::new(owner, name, kind, point(lat, lon)?, perimeter, posture, None).map_err(fail)?;
        Ok(store.create_site(&draft, now).map_err(fail)?.id)
    };
    let kharadar = site(
        bridgeworks,
        "Kharadar Bridge Works (project site)",
        SiteKind::ProjectSite,
        24.8548,
        66.9958,
        Some(vec![
            [66.9948, 24.8540],
            [66.9968, 24.8540],
            [66.9968, 24.8556],
            [66.9948, 24.8556],
            [66.9948, 24.8540],
        ]),
        SecurityPosture::Elevated,
    )?;
    let residence = site(
        bridgeworks,
        "Staff Residence, M.A. Jinnah Road",
        SiteKind::Residence,
        24.8668,
        67.0105,
        None,
        SecurityPosture::Normal,
    )?;
    let harbour_office = site(
        harbour,
        "Harbour Power Site Office",
        SiteKind::Office,
        24.8590,
        67.0030,
        None,
        SecurityPosture::Normal,
    )?;
    let _port = site(
        directorate,
        "West Wharf Port Gate",
        SiteKind::Port,
        24.8505,
        66.9905,
        None,
        SecurityPosture::High,
    )?;
    let _lyari = site(
        harbour,
        "Lyari Substation Works (project site)",
        SiteKind::ProjectSite,
        24.8735,
        66.9945,
        None,
        SecurityPosture::Elevated,
    )?;

    let today = time::OffsetDateTime::from_unix_timestamp(now).map_err(fail)?.date();
    let person = |name: &str, employer, site_id, level, status, passport: &str, phone: &str| -> Result<(), Failure> {
        let pd = PersonalData::new(
            Some(passport),
            Some(phone),
            None,
            Some("Project housing, Karachi (demo)"),
            today,
        )
        .map_err(fail)?;
        let draft =
            PersonDraft::new(name, Some("Partner Nation"), employer, site_id, level, status, pd).map_err(fail)?;
        store.create_person(&draft, now).map_err(fail)?;
        Ok(())
    };
    person(
        "Wen Lianhe",
        bridgeworks,
        Some(kharadar),
        ProtectionLevel::A,
        PersonStatus::InCountry,
        "PD0000101",
        "+92 300 0000101",
    )?;
    person(
        "Gao Mingyu",
        bridgeworks,
        Some(kharadar),
        ProtectionLevel::B,
        PersonStatus::InCountry,
        "PD0000102",
        "+92 300 0000102",
    )?;
    person(
        "Lin Shuyao",
        bridgeworks,
        Some(residence),
        ProtectionLevel::B,
        PersonStatus::OnLeave,
        "PD0000103",
        "+92 300 0000103",
    )?;
    person(
        "Zhou Peiran",
        harbour,
        Some(harbour_office),
        ProtectionLevel::A,
        PersonStatus::InCountry,
        "PD0000201",
        "+92 300 0000201",
    )?;
    person(
        "Ma Qiyuan",
        harbour,
        Some(harbour_office),
        ProtectionLevel::C,
        PersonStatus::InCountry,
        "PD0000202",
        "+92 300 0000202",
    )?;

    // An escort team of the host's protection unit (fictional plates).
    jsms_store::MovementStore::create_escort_team(
        store,
        &jsms_store::EscortTeam {
            id: jsms_domain::ids::EscortTeamId::generate(),
            party: host,
            unit: "Special Protection Unit — Team 3".into(),
            call_sign: "FALCON 3".into(),
            members: vec![escort],
            vehicles: vec![
                "Armoured SUV, plate KHI-0000 (fictional)".into(),
                "Escort pickup, plate KHI-0001 (fictional)".into(),
            ],
            version: 1,
        },
        now,
    )
    .map_err(fail)?;

    // Threat reports (fictional), one per common marking.
    let reports = [
        (
            host,
            host_intel,
            host_analyst,
            Marking::new(Tlp::Green, false, vec![]),
            "Demonstrations expected at the West Wharf port gate on Friday",
            "Two trade associations called a sit-in at the port gate from 10:00 on Friday. Expect road closures on the port road; plan departures before 09:00 or after 15:00.",
            ('B', 2),
            vec![],
            (24.8505, 66.9905),
        ),
        (
            partner,
            embassy,
            partner_analyst,
            Marking::new(Tlp::Amber, true, vec![]),
            "Car seen following the Bridgeworks staff bus",
            "A grey saloon followed the staff bus from the residence to the Kharadar works on two mornings this week, keeping two to three cars behind.",
            ('C', 3),
            vec!["Fictional Cell Seven".to_owned()],
            (24.8668, 67.0105),
        ),
        (
            host,
            host_intel,
            host_analyst,
            Marking::new(Tlp::AmberStrict, false, vec![embassy]),
            "Planned surveillance of the staff residence",
            "A source reports that the residence's entrance will be photographed from the opposite building in the coming days. Shared with the Partner Embassy security office only.",
            ('B', 3),
            vec![],
            (24.8668, 67.0105),
        ),
    ];
    for (n, (party, org, author, marking, title, text, (r, c), actors, (lat, lon))) in reports.into_iter().enumerate() {
        let id = uuid::Uuid::now_v7();
        let at = now - 3600 * (24 - 6 * i64::try_from(n).unwrap_or(0));
        let body = jsms_service::intel::ReportBody {
            title: title.to_owned(),
            body: text.to_owned(),
            observed_at: at - 7200,
            reported_at: at,
            grading: Some(Grading::new(r, c).map_err(fail)?),
            place: Some((lat, lon)),
            zones: vec![],
            sites: vec![],
            incidents: vec![],
            movements: vec![],
            actors,
            intrusion_sets: vec![],
            indicators: vec![],
            notes: vec![],
            raw: vec![],
            source: None,
            history: vec![],
        };
        let record = jsms_store::ReportRecord {
            id,
            stix_id: jsms_stix::report_id(id),
            party,
            org,
            author: Some(author),
            marking: marking.map_err(fail)?,
            body: serde_json::to_value(&body).map_err(fail)?,
            version: 1,
            created_at: at * 1000,
            updated_at: at * 1000,
        };
        store.create_report(&record).map_err(fail)?;
    }

    let mut logins = s.logins;
    logins.extend(admin_logins);
    Ok(logins)
}

/// The Karachi old-city extract (© OpenStreetMap contributors, ODbL), built into the binary so
/// the demo needs no file at run time.
const KARACHI: &[u8] = include_bytes!("../../../data/osm/karachi-old-city.osm.pbf");

/// Imports the demo map into the instance.
pub fn import_demo_map(data: &DataDir) -> Result<(), Failure> {
    let (graph, _) = jsms_routing::import::import(std::io::Cursor::new(KARACHI), KARACHI.len() as u64, &mut |_| {})
        .map_err(|e| Failure::runtime(format!("demo map: {e}")))?;
    let path = data.road_graph();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Failure::runtime(format!("{}: {e}", parent.display())))?;
    }
    std::fs::write(&path, graph.to_bytes()).map_err(|e| Failure::runtime(format!("{}: {e}", path.display())))
}

/// The demo witness's name.
const DEMO_WITNESS: &str = "partner.demo/witness";

/// Where the demo keeps the partner's witness: beside the instance, never inside it (it is
/// the other party's key and state).
fn witness_dir(instance: &std::path::Path) -> PathBuf {
    let mut name = instance.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".witness");
    instance.with_file_name(name)
}

/// Starts the partner's witness for the demo on a loopback port: a fresh key (mode 0600) and
/// state in `dir`; returns the endpoint the instance pushes its checkpoints to.
async fn start_witness(dir: &std::path::Path, log_key: &str) -> Result<jsms_server::audit::WitnessEndpoint, Failure> {
    use jsms_audit::note::{NoteSigner, NoteVerifier, TYPE_COSIGNATURE};
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| fail(format!("{}: {e}", dir.display())))?;
    }
    let seed = jsms_identity::random::bytes::<32>().map_err(fail)?;
    let signer = NoteSigner::from_seed(DEMO_WITNESS, TYPE_COSIGNATURE, seed).map_err(fail)?;
    let key_file = dir.join("witness.key");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    std::io::Write::write_all(
        &mut options
            .open(&key_file)
            .map_err(|e| fail(format!("{}: {e}", key_file.display())))?,
        signer.to_text().as_bytes(),
    )
    .map_err(fail)?;
    let verifier = NoteVerifier::from_text(&signer.verifier_text()).map_err(fail)?;
    let log = NoteVerifier::from_text(log_key).map_err(fail)?;
    let logs = vec![jsms_audit::witness::WitnessedLog {
        origin: log.name().to_owned(),
        verifier: log,
    }];
    let router = jsms_server::witness::router(
        signer,
        logs,
        dir.join("witness.json"),
        std::sync::Arc::new(jsms_server::state::SystemClock),
    )
    .map_err(fail)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| fail(format!("demo witness: {e}")))?;
    let url = format!("http://{}", listener.local_addr().map_err(fail)?);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "demo witness stopped");
        }
    });
    Ok(jsms_server::audit::WitnessEndpoint {
        url: Some(url),
        verifier,
    })
}

/// Runs `jsms demo`.
pub fn run(args: DemoArgs) -> Result<(), Failure> {
    let (dir, _guard) = match args.data_dir {
        Some(d) => (d, None),
        None => {
            let tmp = tempfile::Builder::new()
                .prefix("jsms-demo-")
                .tempdir()
                .map_err(Failure::runtime)?;
            (tmp.path().join("instance"), Some(tmp))
        }
    };
    let data = DataDir::new(&dir);
    data.create(&KeySource::DataDir)?;
    let store = data.create_store(&KeySource::DataDir)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let logins = seed(&store, now)?;
    import_demo_map(&data)?;
    let mut config = ServerConfig::for_data_dir(dir.clone());
    config.addr = args.addr;
    let rt = serve::runtime()?;
    let audit = data.open_audit(std::sync::Arc::new(jsms_server::state::SystemClock))?;
    let convoy_logins = logins.clone();
    let witness_dir = witness_dir(&dir);
    let witness = rt.block_on(start_witness(&witness_dir, &audit.verifier_text()))?;
    let witness_url = witness.url.clone().unwrap_or_default();
    let witness_key = witness.verifier.to_text();
    config.witnesses = vec![witness];
    rt.block_on(serve::serve(config, store, audit, |url| {
        let (base, convoy_logins) = (url.to_owned(), convoy_logins);
        tokio::spawn(async move {
            if let Err(e) = crate::convoy::run(base, convoy_logins, crate::convoy::TRIPS, false).await {
                tracing::warn!(error = %e.message(), "demo convoy stopped");
            }
        });
        println!();
        println!("JSMS demo — a fictional scenario on the Karachi old-city map");
        println!("  URL:       {url}");
        println!("  API:       {url}/api/v1/openapi.json");
        println!(
            "  Data:      {}{}",
            dir.display(),
            if _guard.is_some() { " (deleted at exit)" } else { "" }
        );
        println!();
        println!(
            "  {:<26} {:<16} {:<22} TOTP secret (RFC 6238, SHA-1, 6 digits, 30 s)",
            "role", "username", "password"
        );
        for l in logins.iter().filter(|l| l.shown) {
            println!(
                "  {:<26} {:<16} {:<22} {}",
                l.role,
                l.username,
                l.password,
                l.totp_secret.as_deref().unwrap_or("(enrols at first sign-in)")
            );
        }
        println!();
        println!("  A current code: oathtool --totp -b SECRET (or any authenticator app).");
        println!("  Witness: the Partner Nation's witness ({DEMO_WITNESS}) at {witness_url} cosigns every");
        println!(
            "    checkpoint of the audit log (its key and state: {}; in a real deployment it runs",
            witness_dir.display()
        );
        println!("    on the partner's own machine). Auditors see the cosigned checkpoint on the Audit page;");
        println!("    check it offline (after stopping the demo, with --data-dir to keep the instance):");
        println!(
            "    jsms audit verify --data-dir {} --witness-state {} --witness-key {witness_key}",
            dir.display(),
            witness_dir.join("witness.json").display()
        );
        println!("  Road network: Karachi old city (© OpenStreetMap contributors, ODbL); try");
        println!(
            "    jsms route --data-dir {} --from 24.8548,66.9958 --to 24.8668,67.0105",
            dir.display()
        );
        println!("  Live: the escort team FALCON 3 drives Wen Lianhe between the Kharadar works and the");
        println!(
            "    staff residence ({} trips, simulated phone; an unplanned stop on every third).",
            crate::convoy::TRIPS
        );
        println!("  Press Ctrl-C to stop.");
    }))
}
