#!/usr/bin/env python3
"""Packs a root file system as a one-layer OCI image archive that `ctr images import` takes.

    oci-pack.py ROOTFS CONFIG_JSON REF OUT_TAR

CONFIG_JSON holds the image's run settings (the OCI config's "config" object: User, Env,
Entrypoint, Cmd, WorkingDir, ExposedPorts, StopSignal). The layer is an uncompressed tar made by
GNU tar with numeric owners (faster to make and to import than a compressed one on 2 cores).
REF becomes the `io.containerd.image.name` annotation, so the import names the image.
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def blob(data):
    return hashlib.sha256(data).hexdigest(), data


def main():
    rootfs, config_path, ref, out = sys.argv[1:5]
    with open(config_path, encoding="utf8") as handle:
        run_config = json.load(handle)
    tag = ref.rsplit(":", 1)[1]
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(out))) as work:
        layer = os.path.join(work, "layer.tar")
        subprocess.run(["tar", "--numeric-owner", "--sort=name", "-C", rootfs, "-cf", layer, "."], check=True)
        layer_digest = sha256_file(layer)
        layer_size = os.path.getsize(layer)
        config = {
            "architecture": "amd64",
            "os": "linux",
            "config": run_config,
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
            "history": [{"created_by": "odoo-saas scripts/build-images.sh (local build from Debian packages)"}],
        }
        config_digest, config_bytes = blob(json.dumps(config, sort_keys=True).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": f"sha256:{config_digest}", "size": len(config_bytes)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": f"sha256:{layer_digest}", "size": layer_size}],
        }
        manifest_digest, manifest_bytes = blob(json.dumps(manifest, sort_keys=True).encode())
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": f"sha256:{manifest_digest}", "size": len(manifest_bytes),
                "annotations": {"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag},
            }],
        }
        with tarfile.open(out, "w") as archive:
            def add_bytes(name, data):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                archive.addfile(info, io.BytesIO(data))
            add_bytes("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
            add_bytes("index.json", json.dumps(index).encode())
            add_bytes(f"blobs/sha256/{config_digest}", config_bytes)
            add_bytes(f"blobs/sha256/{manifest_digest}", manifest_bytes)
            archive.add(layer, arcname=f"blobs/sha256/{layer_digest}")


if __name__ == "__main__":
    main()
