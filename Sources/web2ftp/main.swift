print("web2ftp")
