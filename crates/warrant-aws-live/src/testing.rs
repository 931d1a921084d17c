//! A real AWS emulator (moto server) on loopback, for tests. Started per test, killed on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MotoServer {
    child: Child,
    port: u16,
}

impl MotoServer {
    /// Starts `moto_server` on a free 127.0.0.1 port and waits until it answers.
    pub fn start() -> Result<MotoServer, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free loopback port: {e}"))?
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start moto_server ({e}); install it with: pip install 'moto[server]'"
                )
            })?;
        let server = MotoServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if server.request("GET", "/moto-api/").is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err("moto_server did not answer within 30 s".into())
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Clears every emulated resource.
    pub fn reset(&self) -> Result<(), String> {
        self.request("POST", "/moto-api/reset").map(|_| ())
    }

    fn request(&self, method: &str, path: &str) -> Result<String, String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        write!(stream, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
        let mut response = String::new();
        #[allow(
            clippy::disallowed_methods,
            reason = "test support: moto's short reply on loopback"
        )]
        stream
            .read_to_string(&mut response)
            .map_err(|e| e.to_string())?;
        if response.starts_with("HTTP/1.1 2") || response.starts_with("HTTP/1.0 2") {
            Ok(response)
        } else {
            Err(response.lines().next().unwrap_or("no response").to_string())
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
