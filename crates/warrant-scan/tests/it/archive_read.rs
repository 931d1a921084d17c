#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Archive reader: nesting, bombs, links, corruption, and no panics on arbitrary bytes.

use std::io::{Cursor, Write};
use std::sync::Mutex;

use proptest::prelude::*;
use warrant_scan::archive::{ArchiveLimits, is_archive, scan_archive};
use warrant_scan::{BlobSink, Origin};
use zip::write::SimpleFileOptions;

#[derive(Default)]
struct Collect {
    blobs: Mutex<Vec<(String, Vec<u8>)>>,
    skipped: Mutex<Vec<(String, String)>>,
}

impl BlobSink for Collect {
    fn blob(&self, origin: &Origin, data: &[u8]) {
        self.blobs
            .lock()
            .unwrap()
            .push((origin.display_path(), data.to_vec()));
    }
    fn skipped(&self, origin: &Origin, reason: &str) {
        self.skipped
            .lock()
            .unwrap()
            .push((origin.display_path(), reason.to_string()));
    }
}

impl Collect {
    fn blob_paths(&self) -> Vec<String> {
        self.blobs
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect()
    }
    fn content(&self, path: &str) -> Option<Vec<u8>> {
        self.blobs
            .lock()
            .unwrap()
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, d)| d.clone())
    }
    fn reasons(&self) -> Vec<String> {
        self.skipped
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }
}

fn file(path: &str) -> Origin {
    Origin::File {
        path: path.to_string(),
    }
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
}

fn make_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in members {
        writer.start_file(*name, deflated()).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn make_tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

const SECRET: &[u8] = b"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

#[test]
fn zip_in_tar_gz_is_opened_recursively() {
    let inner = make_zip(&[("inner/.env", SECRET), ("inner/readme.txt", b"hello")]);
    let tar = make_tar(&[
        ("bundle/nested.zip", &inner),
        ("bundle/notes.md", b"# notes"),
    ]);
    let tgz = gzip(&tar);
    assert!(is_archive(&tgz));
    let sink = Collect::default();
    let stats = scan_archive(&file("release.tgz"), &tgz, &ArchiveLimits::default(), &sink);
    let mut paths = sink.blob_paths();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "release.tgz!bundle/nested.zip!inner/.env",
            "release.tgz!bundle/nested.zip!inner/readme.txt",
            "release.tgz!bundle/notes.md",
        ]
    );
    assert_eq!(
        sink.content("release.tgz!bundle/nested.zip!inner/.env")
            .as_deref(),
        Some(SECRET)
    );
    assert!(sink.reasons().is_empty(), "{:?}", sink.reasons());
    assert_eq!(stats.archives, 2);
    assert_eq!(stats.members, 3);
    // The origin chain keeps every level, so a git origin survives to the member.
    let blobs = sink.blobs.lock().unwrap();
    assert!(!blobs.is_empty());
}

#[test]
fn member_origin_chains_containers() {
    let zip = make_zip(&[("a.env", SECRET)]);
    let origin = Origin::Git {
        repo: "r".into(),
        commit: "c0ffee".into(),
        path: "dist/a.zip".into(),
        author: None,
        email: None,
        date: None,
    };
    struct Check(Mutex<Vec<Origin>>);
    impl BlobSink for Check {
        fn blob(&self, origin: &Origin, _: &[u8]) {
            self.0.lock().unwrap().push(origin.clone());
        }
        fn skipped(&self, _: &Origin, reason: &str) {
            panic!("unexpected skip: {reason}");
        }
    }
    let sink = Check(Mutex::new(Vec::new()));
    scan_archive(&origin, &zip, &ArchiveLimits::default(), &sink);
    let got = sink.0.lock().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].commit(), Some("c0ffee"));
    assert_eq!(got[0].display_path(), "dist/a.zip!a.env");
    assert_eq!(
        got[0],
        Origin::Archive {
            container: Box::new(origin.clone()),
            member: "a.env".into()
        }
    );
}

#[test]
fn plain_gzip_member_takes_the_stored_or_derived_name() {
    let gz = gzip(SECRET);
    let sink = Collect::default();
    scan_archive(
        &file("dump/creds.env.gz"),
        &gz,
        &ArchiveLimits::default(),
        &sink,
    );
    assert_eq!(sink.blob_paths(), vec!["dump/creds.env.gz!creds.env"]);

    let mut named = Vec::new();
    let mut encoder = flate2::GzBuilder::new()
        .filename("original.txt")
        .write(&mut named, flate2::Compression::fast());
    encoder.write_all(SECRET).unwrap();
    encoder.finish().unwrap();
    let sink = Collect::default();
    scan_archive(&file("x.gz"), &named, &ArchiveLimits::default(), &sink);
    assert_eq!(sink.blob_paths(), vec!["x.gz!original.txt"]);
}

/// 2 GiB of zeros deflate to about 2 MiB. The member is written in 1 MiB chunks so the test
/// never holds the uncompressed data.
fn zip_bomb() -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file("before.env", deflated()).unwrap();
    writer.write_all(SECRET).unwrap();
    writer
        .start_file("bomb.bin", deflated().large_file(true))
        .unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..2048 {
        writer.write_all(&zeros).unwrap();
    }
    writer.start_file("after.env", deflated()).unwrap();
    writer.write_all(SECRET).unwrap();
    writer.finish().unwrap().into_inner()
}

#[test]
fn zip_bomb_member_is_skipped_and_the_rest_scanned() {
    let bomb = zip_bomb();
    assert!(bomb.len() < 4 << 20, "bomb is {} bytes", bomb.len());
    let sink = Collect::default();
    let stats = scan_archive(&file("a.zip"), &bomb, &ArchiveLimits::default(), &sink);
    let mut paths = sink.blob_paths();
    paths.sort();
    assert_eq!(paths, vec!["a.zip!after.env", "a.zip!before.env"]);
    assert_eq!(
        sink.reasons(),
        vec!["a.zip!bomb.bin: uncompressed size exceeds 256 MiB limit (zip bomb?)"]
    );
    // The declared size gave it away before anything was inflated.
    assert!(stats.bytes_decompressed < 1 << 20);
}

#[test]
fn bomb_inside_gzip_is_stopped_while_streaming() {
    // gzip declares no trustworthy size, so the guard has to act on the bytes produced.
    // Best compression brings zeros near deflate's ~1000:1 ceiling.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        encoder.write_all(&zeros).unwrap();
    }
    let gz = encoder.finish().unwrap();
    let sink = Collect::default();
    let stats = scan_archive(&file("logs.gz"), &gz, &ArchiveLimits::default(), &sink);
    assert!(sink.blob_paths().is_empty());
    let reasons = sink.reasons();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].starts_with("logs.gz!logs: compression ratio exceeds 200:1 (zip bomb?)"),
        "{reasons:?}"
    );
    assert!(stats.bytes_decompressed < 256 << 20);

    // Without the ratio guard the member limit stops it.
    let limits = ArchiveLimits {
        max_ratio: u64::MAX,
        max_member_bytes: 8 << 20,
        ..ArchiveLimits::default()
    };
    let sink = Collect::default();
    scan_archive(&file("logs.gz"), &gz, &limits, &sink);
    assert_eq!(
        sink.reasons(),
        vec!["logs.gz!logs: uncompressed size exceeds 8 MiB limit (zip bomb?)"]
    );
}

#[test]
fn total_budget_stops_the_whole_archive_once() {
    let chunk = vec![b'x'; 400 * 1024];
    let members: Vec<(String, Vec<u8>)> = (0..10)
        .map(|i| (format!("part{i}.txt"), chunk.clone()))
        .collect();
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let zip = make_zip(&refs);
    let limits = ArchiveLimits {
        max_total_bytes: 1 << 20,
        max_ratio: u64::MAX,
        ..ArchiveLimits::default()
    };
    let sink = Collect::default();
    scan_archive(&file("big.zip"), &zip, &limits, &sink);
    assert_eq!(
        sink.blob_paths(),
        vec!["big.zip!part0.txt", "big.zip!part1.txt"]
    );
    assert_eq!(
        sink.reasons(),
        vec!["big.zip!part2.txt: total uncompressed size limit 1 MiB reached (zip bomb?)"]
    );
}

#[test]
fn member_count_limit() {
    let members: Vec<(String, Vec<u8>)> =
        (0..20).map(|i| (format!("f{i}"), vec![b'a'; 10])).collect();
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let tar = make_tar(&refs);
    let limits = ArchiveLimits {
        max_members: 6,
        ..ArchiveLimits::default()
    };
    let sink = Collect::default();
    scan_archive(&file("many.tar"), &tar, &limits, &sink);
    // The archive itself counts as one.
    assert_eq!(sink.blob_paths().len(), 5);
    assert_eq!(
        sink.reasons(),
        vec!["many.tar: member count limit 6 reached; the rest of the archive is not scanned"]
    );
}

#[test]
fn nesting_beyond_the_depth_limit_is_not_opened() {
    let mut data = make_zip(&[("deep.env", SECRET)]);
    for level in (1..6).rev() {
        let name = format!("level{level}.zip");
        data = make_zip(&[(name.as_str(), data.as_slice())]);
    }
    // Six levels of zip; the default opens four.
    let sink = Collect::default();
    scan_archive(&file("top.zip"), &data, &ArchiveLimits::default(), &sink);
    assert!(sink.blob_paths().is_empty());
    assert_eq!(
        sink.reasons(),
        vec![
            "top.zip!level1.zip!level2.zip!level3.zip!level4.zip: nested archive exceeds the depth limit of 4; not opened"
        ]
    );
    let limits = ArchiveLimits {
        max_depth: 6,
        ..ArchiveLimits::default()
    };
    let sink = Collect::default();
    scan_archive(&file("top.zip"), &data, &limits, &sink);
    assert_eq!(
        sink.blob_paths(),
        vec!["top.zip!level1.zip!level2.zip!level3.zip!level4.zip!level5.zip!deep.env"]
    );
}

#[test]
fn tar_links_are_not_followed_and_traversal_names_are_just_names() {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    builder
        .append_link(&mut header, "etc/passwd-link", "/etc/passwd")
        .unwrap();
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Link);
    header.set_size(0);
    builder
        .append_link(&mut header, "hard", "etc/passwd-link")
        .unwrap();
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    builder.append_link(&mut header, "loop", "loop").unwrap();
    let mut header = tar::Header::new_gnu();
    header.set_size(SECRET.len() as u64);
    header.set_entry_type(tar::EntryType::Regular);
    // tar::Builder refuses `..` in paths, so write the name into the header directly.
    header.as_gnu_mut().unwrap().name[..14].copy_from_slice(b"../../evil.env");
    header.set_cksum();
    builder.append(&header, SECRET).unwrap();
    let tar = builder.into_inner().unwrap();

    let sink = Collect::default();
    scan_archive(&file("links.tar"), &tar, &ArchiveLimits::default(), &sink);
    assert_eq!(sink.blob_paths(), vec!["links.tar!../../evil.env"]);
    assert_eq!(
        sink.reasons(),
        vec![
            "links.tar!etc/passwd-link: symbolic link to \"/etc/passwd\" not followed",
            "links.tar!hard: hard link to \"etc/passwd-link\" not followed",
            "links.tar!loop: symbolic link to \"loop\" not followed",
        ]
    );
}

#[test]
fn truncated_tar_reports_earlier_members_and_the_place() {
    let big = vec![b'y'; 4096];
    let tar = make_tar(&[
        ("first.env", SECRET),
        ("second.bin", &big),
        ("third.txt", b"t"),
    ]);
    // Cut inside second.bin's data.
    let cut = &tar[..512 + 512 + 512 + 1000];
    let sink = Collect::default();
    scan_archive(&file("cut.tar"), cut, &ArchiveLimits::default(), &sink);
    assert_eq!(sink.content("cut.tar!first.env").as_deref(), Some(SECRET));
    let reasons = sink.reasons();
    assert!(
        reasons
            .iter()
            .any(|r| r == "cut.tar!second.bin: truncated: header says 4096 bytes, 1000 present"),
        "{reasons:?}"
    );
    // The part that is present is still scanned.
    assert_eq!(
        sink.content("cut.tar!second.bin").map(|d| d.len()),
        Some(1000)
    );
    assert!(!sink.blob_paths().contains(&"cut.tar!third.txt".to_string()));
}

#[test]
fn corrupt_tar_header_names_the_last_good_member() {
    let mut tar = make_tar(&[("one.env", SECRET), ("two.txt", b"two")]);
    // Break the second header's checksum.
    let second = 512 + 512;
    tar[second + 148..second + 156].copy_from_slice(b"9999999\0");
    let sink = Collect::default();
    scan_archive(&file("bad.tar"), &tar, &ArchiveLimits::default(), &sink);
    assert_eq!(sink.blob_paths(), vec!["bad.tar!one.env"]);
    let reasons = sink.reasons();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].starts_with("bad.tar: corrupt tar after member one.env (header at offset 0):"),
        "{reasons:?}"
    );
}

#[test]
fn truncated_zip_falls_back_to_local_headers() {
    let zip = make_zip(&[
        ("a.env", SECRET),
        ("b.txt", b"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
        ("c.txt", &vec![b'c'; 10_000]),
    ]);
    let cut = &zip[..zip.len() - 200];
    let sink = Collect::default();
    scan_archive(&file("cut.zip"), cut, &ArchiveLimits::default(), &sink);
    assert_eq!(sink.content("cut.zip!a.env").as_deref(), Some(SECRET));
    assert!(sink.blob_paths().contains(&"cut.zip!b.txt".to_string()));
    let reasons = sink.reasons();
    assert!(
        reasons[0].starts_with("cut.zip: zip central directory unreadable"),
        "{reasons:?}"
    );
}

#[test]
fn truncated_tgz_still_yields_members_before_the_cut() {
    let noise: Vec<u8> = (0..200_000u32)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect();
    let tar = make_tar(&[("first.env", SECRET), ("noise.bin", &noise)]);
    let tgz = gzip(&tar);
    let cut = &tgz[..tgz.len() / 2];
    let sink = Collect::default();
    scan_archive(&file("cut.tgz"), cut, &ArchiveLimits::default(), &sink);
    assert_eq!(sink.content("cut.tgz!first.env").as_deref(), Some(SECRET));
    let reasons = sink.reasons();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("cut.tgz: corrupt or truncated gzip stream after")),
        "{reasons:?}"
    );
}

#[test]
fn not_an_archive_is_one_clear_skip() {
    let sink = Collect::default();
    scan_archive(
        &file("x.zip"),
        b"just text",
        &ArchiveLimits::default(),
        &sink,
    );
    assert_eq!(
        sink.reasons(),
        vec!["x.zip: not a zip, tar or gzip archive"]
    );
}

fn corrupted(seed: &[u8], flips: &[(usize, u8)], cut: usize) -> Vec<u8> {
    let mut data = seed.to_vec();
    for (at, value) in flips {
        if !data.is_empty() {
            let i = at % data.len();
            data[i] ^= value;
        }
    }
    data.truncate(cut.min(data.len()));
    data
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let sink = Collect::default();
        scan_archive(&file("fuzz"), &data, &ArchiveLimits::default(), &sink);
    }

    #[test]
    fn damaged_archives_never_panic(
        kind in 0usize..3,
        flips in proptest::collection::vec((any::<usize>(), 1u8..), 0..8),
        cut in 0usize..4096,
    ) {
        let zip = make_zip(&[("a.env", SECRET), ("b.txt", b"bbbb")]);
        let tar = make_tar(&[("a.env", SECRET), ("b.zip", &zip)]);
        let seed = match kind {
            0 => zip,
            1 => tar,
            _ => gzip(&tar),
        };
        let data = corrupted(&seed, &flips, cut);
        let sink = Collect::default();
        scan_archive(&file("fuzz"), &data, &ArchiveLimits::default(), &sink);
    }
}

#[test]
fn binary_members_are_counted_not_reported() {
    let zip = make_zip(&[
        ("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
        ("a.env", SECRET),
    ]);
    let sink = Collect::default();
    let stats = scan_archive(&file("app.jar"), &zip, &ArchiveLimits::default(), &sink);
    assert_eq!(sink.blob_paths(), vec!["app.jar!a.env"]);
    assert!(sink.reasons().is_empty());
    assert_eq!((stats.members, stats.binary), (1, 1));
}

#[test]
fn scan_if_archive_says_whether_it_handled_the_data() {
    let sink = Collect::default();
    assert!(!warrant_scan::archive::scan_if_archive(
        &file("a.txt"),
        b"text",
        &ArchiveLimits::default(),
        &sink
    ));
    assert!(sink.reasons().is_empty());
    let zip = make_zip(&[("a.env", SECRET)]);
    assert!(warrant_scan::archive::scan_if_archive(
        &file("a.zip"),
        &zip,
        &ArchiveLimits::default(),
        &sink
    ));
    assert_eq!(sink.blob_paths(), vec!["a.zip!a.env"]);
}
