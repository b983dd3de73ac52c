@_spi(Internals) import WebToFTP

/// The command line as it will be once the pipeline lands; --help already describes all of it.
enum Usage {
    static let text = """
        web2ftp \(Web2FTP.version): stream CSV files from web servers into FTP servers over explicit FTPS,
        transforming them on the way, with no temp files.

        USAGE
          web2ftp manual   sequential|parallel [options]   run every source once, now
          web2ftp schedule sequential|parallel [options]   stay up and run daily (22:23 local time by default)
          web2ftp get URL [-o FILE|-] [--cacert PATH] [--insecure] [-vv|--trace]
                                                     download one URL (debugging; the download side alone)
          web2ftp next-run [--at HH:MM]... [--now UNIX] [--count N] [--unix]
                                                     when schedule would run next, in local time (--unix: as
                                                     Unix seconds and ISO 8601, for scripts)
          web2ftp --help | --version

        OPTIONS
          --config PATH          sources file (default ./config.json): {"name": {"URL": "...", "PARAMS": {...}}}
          --workers N            transfers at once in parallel mode (default 4)
          --log PATH             log file, appended (default ./etl_pipeline.log)
          --only NAME            run only this source (repeatable)
          --retries N            retries after the first attempt (default 2)
          --at HH:MM[:SS]        schedule: run at this local time (repeatable; default 22:23)
          --run-now              schedule: also run once at start
          --dry-run              check config, env, DNS, FTP login and each source (the CSV transform over its
                                 first 64 KiB); upload nothing
          --quiet                no progress and no INFO lines on stderr; WARN and ERROR lines (a failed
                                 source and why, warnings) still go there; the log file gets every line
          -v, --verbose          more on stderr: each attempt too
          -vv, -v -v, --trace    also log each FTP command and reply, each HTTP request line and response head, at
                                 level TRACE: trace conn=N proto=ftp|http dir=>|< line="...", to the log file and
                                 stderr (with --quiet: the log file only). Masked: the FTP password, query values,
                                 header values but for Content-Type, Content-Length, Content-Encoding,
                                 Transfer-Encoding, ETag, Last-Modified, Retry-After and Location (redacted)
          --summary-json PATH    write the run's summary as JSON
          --cacert PATH          extra CA certificates (PEM), added to the system store, for HTTPS and FTPS
          --insecure             do not verify TLS certificates (logged as a warning)
          --ftp-tls MODE         explicit (default), implicit or none; env FTPTLS
          --ftp-use-pasv-ip      trust the address in the server's PASV reply
          --ftp-timeout SECONDS  sets all three FTP timeouts to SECONDS; by default connecting may take 15 s, a
                                 reply 30 s, and an upload may stall for 60 s

        ON A TERMINAL
          stderr shows a line per finished source, a live progress block (cut to the terminal's width) and a
          summary block; elsewhere (journald, cron mail, a pipe) it gets the log's key=value lines. The log file
          keeps its format. Sizes are decimal (1 MB = 10^6 bytes); plain ASCII when the locale is not UTF-8 or
          TERM=dumb. get shows a meter there. Ctrl-C once stops and cleans up; twice stops at once.

        ENVIRONMENT
          FTPHOST    host, host:port or [IPv6]:port of the FTP server
          FTPUSER    FTP user name
          FTPPASS    FTP password (never logged)
          FTPTARGET  remote directory to publish into
          FTPTLS     same as --ftp-tls
          XDG_RUNTIME_DIR  where the run lock lives (/tmp only when unset or empty)

        EXIT CODES
          0 all sources published   1 some sources failed
          2 usage or config error, or the lock file cannot be created: nothing ran
          3 another run of this config is in progress
          4 the FTP destination is unusable: the run's first login was refused (530), AUTH TLS was refused or the
            server's certificate is not trusted; no further login was tried, nothing was published (--dry-run too)
          130 interrupted (SIGINT)   143 terminated (SIGTERM)
        """
}
