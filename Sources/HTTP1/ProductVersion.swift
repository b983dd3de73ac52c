/// web2ftp's version, kept in the lowest module that sends it: the HTTP client's default User-Agent is
/// `web2ftp/<version>`, and `Web2FTP.version` and `Web2FTP.userAgent` read it from here.
@_spi(Internals) public enum ProductVersion {
    public static let current = "0.1.0"
    public static let userAgent = "web2ftp/\(current)"
}
