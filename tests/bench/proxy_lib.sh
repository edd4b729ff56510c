# Shared by the proxy benchmarks (proxy.sh, proxy_instructions.sh): free
# ports, a throw-away certificate, Parley's configuration, and the nginx
# configurations of the backend and of nginx as the proxy compared with
# Parley. Sourced, not run.

# A free loopback port.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# make_cert DIR: DIR/cert.pem and DIR/key.pem for localhost and 127.0.0.1.
make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1/key.pem" -out "$1/cert.pem" -days 2 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
}

# nginx_main DIR: the settings both nginx configurations share, up to the
# start of their http block (closed by the caller).
nginx_main() {
    cat <<CONF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log error;
worker_rlimit_nofile 19000;
events { worker_connections 18000; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $1;
CONF
}

# parley_conf FILE H1_PORT TLS_PORT ADMIN_PORT BACKEND_PORT CLIENT CERT_DIR:
# a one-worker Parley configuration proxying to the backend with upstream
# client CLIENT (auto or curl); TLS_PORT empty for no TLS listener.
parley_conf() {
    {
        cat <<CONF
workers: 1
log: {level: warn}
access_log: {path: ''}
listen:
  - address: 127.0.0.1:$2
CONF
        [ -z "$3" ] || cat <<CONF
  - address: 127.0.0.1:$3
    tls: {cert: $7/cert.pem, key: $7/key.pem}
CONF
        cat <<CONF
admin: {address: 127.0.0.1:$4}
limits: {connections: 100000}
upstreams: [{name: be, url: "http://127.0.0.1:$5", client: $6}]
routes: [{upstream: be}]
CONF
    } >"$1"
}

# backend_conf DIR PORT H2C_PORT: DIR/nginx.conf for the backend, which
# answers every request itself with a 12-byte body (HTTP/1.1 on PORT, h2c
# on H2C_PORT).
backend_conf() {
    {
        nginx_main "$1"
        cat <<CONF
    http2_max_concurrent_streams 1000;
    server {
        listen 127.0.0.1:$2 backlog=4096;
        listen 127.0.0.1:$3 http2;
        location / { return 200 "hello world\n"; }
    }
}
CONF
    } >"$1/nginx.conf"
}

# nginx_proxy_conf DIR BACKEND_PORT H1_PORT H2C_PORT TLS_PORT CERT_DIR MASTER:
# DIR/nginx.conf for nginx proxying to the backend with kept-alive
# HTTP/1.1 connections. h2c needs a port of its own ("http2" on a cleartext
# port is prior knowledge only). MASTER "off" runs one process, for
# callgrind.
nginx_proxy_conf() {
    {
        echo "master_process $7;"
        nginx_main "$1"
        cat <<CONF
    proxy_temp_path $1;
    upstream be { server 127.0.0.1:$2; keepalive 128; }
    server {
        listen 127.0.0.1:$3 backlog=4096;
        listen 127.0.0.1:$4 http2;
        listen 127.0.0.1:$5 ssl http2;
        ssl_certificate $6/cert.pem;
        ssl_certificate_key $6/key.pem;
        location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
    } >"$1/nginx.conf"
}
