@_spi(Internals) import WebToFTP

/// The help texts: `web2ftp --help` (all of it) and each command's own (`web2ftp help COMMAND`,
/// `web2ftp COMMAND --help`). The README's command-line section says the same.
enum Usage {
    static let text = """
        web2ftp \(Web2FTP.version): stream CSV files from web servers into FTP servers over explicit FTPS,
        transforming them on the way, with no temp files.

        USAGE
          web2ftp manual   sequential|parallel [options]   run every source once, now
          web2ftp schedule sequential|parallel [options]   stay up and run daily (22:23 local time by default)
          web2ftp check [--config PATH] [--env]          check the config offline (no network), as nginx -t does
          web2ftp preview NAME [--config PATH] [--rows N|all] [-o FILE|-]
                                                     download source NAME, transform it, show the first rows
          web2ftp get URL [-o FILE|-] [--compressed] [--cacert PATH] [--insecure] [-vv|--trace]
                                                     download one URL (debugging; the download side alone)
          web2ftp next-run [--at HH:MM]... [--now UNIX] [--count N] [--unix]
                                                     when schedule would run next, in local time (--unix: as
                                                     Unix seconds and ISO 8601, for scripts)
          web2ftp help [COMMAND]                     a command's own help (also: web2ftp COMMAND --help)
          web2ftp -h|--help | -V|--version

        Every option takes its value as --opt VALUE or --opt=VALUE.

        OPTIONS (manual and schedule)
        \(runOptions)

        \(terminal)
        \(environment)

        \(exitCodes)
        """

    static let runOptions = """
          --config PATH          sources file (default ./config.json): {"name": {"URL": "...", "PARAMS": {...}}}
          --workers N            transfers at once in parallel mode (default 4)
          --log PATH             log file, appended (default ./etl_pipeline.log); - writes no file: the lines go
                                 to stderr only (a read-only filesystem)
          --log-format FORMAT    text (default) or json: one JSON object per line (time, level, source, event and
                                 the fields; integers as numbers) in the log file and on stderr off a terminal;
                                 env WEB2FTP_LOG_FORMAT
          --only NAME            run only this source (repeatable)
          --force                publish every source, even those unchanged since their last publication
          --state PATH           the state file (default $XDG_STATE_HOME/web2ftp/HASH.json, else
                                 ~/.local/state/web2ftp/HASH.json; HASH from the config's path)
          --retries N            retries after the first attempt (default 2); a passthrough body cut part-way
                                 is resumed from its last 8 MiB checkpoint when both servers allow it
          --at HH:MM[:SS]        schedule: run at this local time (repeatable; default 22:23)
          --run-now              schedule: also run once at start
          --dry-run              manual: check config, env, DNS, FTP login and each source (the CSV transform
                                 over its first 64 KiB); upload nothing
          -q, --quiet            no progress and no INFO lines on stderr; WARN and ERROR lines (a failed
                                 source and why, warnings) still go there; the log file gets every line
          -v, --verbose          more on stderr: each attempt too (-q with -v is a usage error)
          -vv, -v -v, --trace    also log each FTP command and reply, each HTTP request line and response head, at
                                 level TRACE: trace conn=N proto=ftp|http dir=>|< line="...", to the log file and
                                 stderr (with --quiet: the log file only). Masked: the FTP password, query values,
                                 header values but for Content-Type, Content-Length, Content-Encoding,
                                 Transfer-Encoding, ETag, Last-Modified, Retry-After and Location (redacted)
          --summary-json PATH    write the run's summary as JSON
          --metrics-file PATH    after each run, write Prometheus metrics (text format 0.0.4) to PATH, atomically
                                 (node_exporter's textfile collector: name it *.prom); not after --dry-run
          --metrics-push URL     after each run, PUT the same metrics to the Pushgateway at URL
                                 (URL/metrics/job/web2ftp, /shard/K added on a shard run); a failed push is a
                                 WARN line and does not change the exit code
          --shard K/N            only the sources whose FNV-1a 64 hash of the name modulo N is K (0 <= K < N);
                                 auto/N takes K from JOB_COMPLETION_INDEX. Own lock and state file
                                 (HASH.K-of-N.json); the config's lock taken shared, so no unsharded run overlaps
          --cacert PATH          extra CA certificates (PEM), added to the system store, for HTTPS and FTPS
          --insecure             do not verify TLS certificates (logged as a warning)
          --ftp-tls MODE         explicit (default), implicit or none; env FTPTLS
          --ftp-use-pasv-ip      trust the address in the server's PASV reply
          --ftp-timeout SECONDS  sets all three FTP timeouts to SECONDS; by default connecting may take 15 s, a
                                 reply 30 s, and an upload may stall for 60 s
          -h, --help             this command's help     -V, --version   the version
        """

    static let terminal = """
        ON A TERMINAL
          stderr shows a line per finished source, a live progress block (cut to the terminal's width) and a
          summary block; elsewhere (journald, cron mail, a pipe) it gets the log's key=value lines. The log file
          keeps its format. Sizes are decimal (1 MB = 10^6 bytes); plain ASCII when the locale is not UTF-8 or
          TERM=dumb. get shows a meter there. Ctrl-C once stops and cleans up; twice stops at once.
        """

    static let environment = """
        ENVIRONMENT
          FTPHOST    the FTP server: host, host:port, [IPv6]:port, or a URL without user or path:
                     ftpes://host[:port] (explicit FTPS, port 21), ftps://host[:port] (implicit FTPS, port 990),
                     ftp://host[:port] (plain FTP: only with FTPTLS=none or --ftp-tls none); a scheme that
                     contradicts FTPTLS is refused
          FTPUSER    FTP user name
          FTPPASS    FTP password (never logged); unset: ~/.netrc's entry for the host (a ~/.netrc that group or
                     others can read gets a warning)
          FTPTARGET  remote directory to publish into
          FTPTLS     same as --ftp-tls
          XDG_RUNTIME_DIR  where the run lock lives (/tmp only when unset or empty)
          WEB2FTP_LOG_FORMAT  text or json, as --log-format (which wins)
          JOB_COMPLETION_INDEX  K for --shard auto/N (set by Kubernetes Indexed Jobs)
          NOTIFY_SOCKET  schedule tells systemd READY, STATUS, STOPPING, and WATCHDOG every half WATCHDOG_USEC
        """

    static let exitCodes = """
        EXIT CODES
          0 all sources published   1 some sources failed
          2 usage or config error, or the lock file cannot be created: nothing ran
          3 another run of this config is in progress
          4 the FTP destination is unusable: the run's first login was refused (530), AUTH TLS was refused or the
            server's certificate is not trusted; no further login was tried, nothing was published (--dry-run too)
          130 interrupted (SIGINT)   143 terminated (SIGTERM)
        """

    static let manual = """
        usage: web2ftp manual sequential|parallel [options]
        Runs every source of the config once, now: download, transform, publish over FTPS.

        OPTIONS
        \(runOptions)

        \(environment)

        \(exitCodes)
        """

    static let schedule = """
        usage: web2ftp schedule sequential|parallel [--at HH:MM[:SS]]... [--run-now] [options]
        Stays up and runs every source daily (22:23 local time unless --at says otherwise). The config is read
        again before each run (a broken edit is logged and that run skipped). SIGINT/SIGTERM: exit 0 when idle,
        else the run is stopped (130/143). SIGHUP reopens the log.

        OPTIONS
        \(runOptions)

        \(environment)

        \(exitCodes)
        """

    static let check = """
        usage: web2ftp check [--config PATH] [--env] [--shard K/N | --shards N]
        Checks the config offline, as nginx -t does: JSON, keys, URLs, PARAMS, TARGETs, two sources publishing one
        path. No network, no FTP variables needed; nothing written (no log, no lock, no state). Prints
        "config.json: 12 sources OK", or every problem as FILE:LINE:COLUMN: problem.

        OPTIONS
          --config PATH   sources file (default ./config.json)
          --env           check the FTP variables too (FTPHOST, FTPUSER, FTPPASS or ~/.netrc, FTPTARGET, FTPTLS)
          --ftp-tls MODE  as manual's, for --env
          --shard K/N     also list the sources of shard K of N (as manual --shard would run them)
          --shards N      also print each of the N shards' counts of sources
          -h, --help      this help

        EXIT CODES
          0 the config is valid (and with --env the variables)   2 it is not: every problem printed
        """

    static let preview = """
        usage: web2ftp preview NAME [--config PATH] [--rows N|all] [-o FILE|-] [--cacert PATH] [--insecure] [-q]
        Downloads source NAME of the config, runs its PARAMS/OUTPUT transform and writes the result to stdout (or
        FILE): the header and the first 20 rows unless --rows says otherwise; the download stops once they are
        there. The CSV counters and warnings go to stderr. This is how PARAMS are tuned without publishing. No FTP
        variables needed; nothing written but the output (no log, no lock, no state).

        OPTIONS
          --config PATH      sources file (default ./config.json)
          --rows N|all       rows after the header (default 20); all: the whole file, as a run would publish it
          -o, --output FILE  write to FILE (as FILE.part-PID, renamed when complete; removed on SIGINT/SIGTERM);
                             - is stdout (default)
          --cacert PATH      extra CA certificates (PEM) for HTTPS
          --insecure         do not verify TLS certificates (a warning says so)
          -q, --quiet        no counters on stderr; warnings and errors still
          -h, --help         this help

        EXIT CODES
          0 written   1 the download or the transform failed   2 usage or config error (an unknown NAME too)
        """

    static let get = """
        usage: web2ftp get URL [-o FILE|-] [--compressed] [--cacert PATH] [--insecure] [-vv|--trace]
        Downloads one URL to stdout or FILE (debugging; the download side alone, for comparing with curl -o). A
        file is written as FILE.part-PID and renamed only when the whole body arrived.

        OPTIONS
          -o, --output FILE  write to FILE; - is stdout (default)
          --compressed       ask for gzip (Accept-Encoding) and decode it, as curl's flag does; without it the
                             body is asked for as it is (identity)
          --cacert PATH      extra CA certificates (PEM), added to the system store
          --insecure         do not verify TLS certificates (a warning says so)
          -vv, --trace       the request and response heads on stderr, masked as in a run's trace
          -h, --help         this help

        EXIT CODES
          0 downloaded   1 the download failed   2 usage error
        """

    static let nextRun = """
        usage: web2ftp next-run [--at HH:MM[:SS]]... [--now UNIX] [--count N] [--unix]
        When schedule would run next, in local time (TZ): one line per run, as
        "2026-12-01 22:23:00 CET (in 8 h 20 min)".

        OPTIONS
          --at HH:MM[:SS]  a daily run time (repeatable; default 22:23)
          --now UNIX       count from this time instead of now
          --count N        how many runs (1 to 100, default 3)
          --unix           for scripts: Unix seconds, then ISO 8601 with the offset
                           ("1796160180 2026-12-01T22:23:00.000+01:00")
          -h, --help       this help
        """
}
