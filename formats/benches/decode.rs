//! 2-bit real decode speed: bytes of VDIF payload per second on one core.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use formats::vdif::{Decoder, Levels, SampleFormat};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let fmt = SampleFormat {
        bits: 2,
        complex: false,
        channels: 1,
    };
    let dec = Decoder::new(fmt, &Levels::standard());
    let mut g = c.benchmark_group("decode_2bit_real");
    // 8000 bytes: a typical frame payload (output 128 kB, cache resident);
    // 1 MiB: a long run whose 16 MiB output streams through memory.
    for bytes in [8000usize, 1 << 20] {
        let payload: Vec<u8> = (0..bytes)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
            .collect();
        let mut out = vec![0f32; bytes * 4];
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(format!("{bytes}_bytes"), |b| {
            b.iter(|| dec.decode_components(black_box(&payload), 0, black_box(&mut out)))
        });
    }
    // Picking one channel of four (strided path), per payload byte.
    let fmt4 = SampleFormat { channels: 4, ..fmt };
    let dec4 = Decoder::new(fmt4, &Levels::standard());
    let payload: Vec<u8> = (0..8000usize)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
        .collect();
    let mut out = vec![0f32; 8000];
    g.throughput(Throughput::Bytes(8000));
    g.bench_function("8000_bytes_one_of_4_channels", |b| {
        b.iter(|| dec4.decode_channel(black_box(&payload), 2, 0, black_box(&mut out)))
    });
    // Two channels share each byte (per-channel tables).
    let fmt2 = SampleFormat { channels: 2, ..fmt };
    let dec2 = Decoder::new(fmt2, &Levels::standard());
    let mut out2 = vec![0f32; 16000];
    g.bench_function("8000_bytes_one_of_2_channels", |b| {
        b.iter(|| dec2.decode_channel(black_box(&payload), 1, 0, black_box(&mut out2)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
