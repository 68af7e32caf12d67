//! Hostile inputs: each gets its documented status and reason, and the server keeps serving.

use idforensics::frontends::service::pb;
use tonic::Code;

use crate::support::{TestServer, jpeg, png_chunk, reason, textured_image};

/// A PNG whose header claims 100000×100000 pixels (10 G pixels) over a few bytes of data.
fn png_bomb_header() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

/// A well-framed 8×8 PNG (correct CRCs) whose IDAT is not a deflate stream.
fn png_with_broken_pixels() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&8u32.to_be_bytes());
    ihdr.extend_from_slice(&8u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", &random_bytes(64)));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

/// A JPEG whose EXIF IFD0 points to itself as the next IFD (an infinite loop for a naive reader).
fn jpeg_with_looping_exif() -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&[1, 0, 0, 0]);
    tiff.extend_from_slice(&8u32.to_le_bytes()); // next IFD: itself
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let image = jpeg(&textured_image(48, 32, 9), 90);
    let mut out = image[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend_from_slice(&image[2..]);
    out
}

const GIF_1X1: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

fn bmp_1x1() -> Vec<u8> {
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&58u32.to_le_bytes());
    bmp.extend_from_slice(&[0; 4]);
    bmp.extend_from_slice(&54u32.to_le_bytes());
    bmp.extend_from_slice(&40u32.to_le_bytes());
    bmp.extend_from_slice(&1i32.to_le_bytes());
    bmp.extend_from_slice(&1i32.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes());
    bmp.extend_from_slice(&24u16.to_le_bytes());
    bmp.extend_from_slice(&[0; 24]);
    bmp.extend_from_slice(&[0, 0, 255, 0]);
    bmp
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

#[tokio::test]
async fn hostile_inputs_get_typed_statuses_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let good = jpeg(&textured_image(320, 240, 5), 85);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "image.empty"),
        ("random bytes", random_bytes(4096), "image.unsupported_format"),
        ("truncated jpeg", good[..good.len() / 2].to_vec(), "image.truncated"),
        (
            "jpeg signature then noise",
            [&[0xFF, 0xD8, 0xFF, 0xE0][..], &random_bytes(2048)].concat(),
            "image.truncated",
        ),
        ("png with a broken deflate stream", png_with_broken_pixels(), "image.corrupt"),
        ("png claiming 100000x100000", png_bomb_header(), "image.too_large"),
        ("gif", GIF_1X1.to_vec(), "image.unsupported_format"),
        ("bmp", bmp_1x1(), "image.unsupported_format"),
    ];
    for (name, bytes, expected) in cases {
        let request = pb::AnalyzeRequest { image: bytes, ..Default::default() };
        let status = client.analyze(request).await.expect_err(name);
        assert_eq!(status.code(), Code::InvalidArgument, "{name}: {status:?}");
        assert_eq!(reason(&status), expected, "{name}: {}", status.message());
    }

    // Looping EXIF offsets: the pixels are analysed, what parses of the block is kept, and the loop
    // is reported as a warning.
    let looping = pb::AnalyzeRequest { image: jpeg_with_looping_exif(), ..Default::default() };
    let response = client.analyze(looping).await.unwrap().into_inner();
    let image = response.image.unwrap();
    assert!(image.metadata_warnings.iter().any(|w| w.starts_with("exif:")), "{:?}", image.metadata_warnings);

    // Still serving.
    let camera = crate::support::testdata("camera-sony-cybershot.jpg");
    let ok = client
        .analyze(pb::AnalyzeRequest { image: camera, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.decision(), pb::Decision::Accept);
    server.stop().await;
}

#[tokio::test]
async fn a_file_over_the_byte_limit_is_refused_before_decoding() {
    let server = TestServer::start_with(|settings| settings.limits.max_bytes = 10_000).await;
    let mut client = server.client().await;
    let big = jpeg(&textured_image(400, 400, 6), 95);
    assert!(big.len() > 10_000);
    let status = client.analyze(pb::AnalyzeRequest { image: big, ..Default::default() }).await.unwrap_err();
    assert_eq!(reason(&status), "image.too_many_bytes");
    server.stop().await;
}
