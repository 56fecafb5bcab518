#!/usr/bin/env bash
# AWS (Graviton, UEFI boot, ENA NIC): packs the image into a GPT disk whose EFI system
# partition holds EFI/BOOT/BOOTAA64.EFI, and prints the AWS CLI steps that turn that disk
# into an AMI. It never talks to AWS itself; nothing here has been run against AWS.
#
#   scripts/boot-aws.sh [--out DIR]           build the image (build-image.sh --platform aws)
#                                             and DIR/cohesix-aws.raw (default target/aws)
#   scripts/boot-aws.sh --efi FILE [--out DIR]  pack an existing UEFI application instead
#   scripts/boot-aws.sh --steps [--bucket B] [--region R]
#                                             print the AWS CLI steps for DIR/cohesix-aws.raw
#   scripts/boot-aws.sh --qemu [--timeout S]  rebuild the image and disk (or pack --efi FILE),
#                                             boot it under QEMU virt with UEFI firmware
#                                             (qemu-efi-aarch64), show its serial output and
#                                             check for the banner and prompt (PASS/FAIL);
#                                             QEMU has no ENA, so this checks the UEFI path only
#
# The disk: 64 MiB, GPT, one EFI system partition (FAT32, type EF00) from 1 MiB on. Needs
# sgdisk (gdisk), mkfs.vfat (dosfstools) and mtools; installed with apt-get when run as root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/target/aws"
EFI=""
STEPS=0
QEMU=0
TIMEOUT=60
BUCKET="YOUR-BUCKET"
REGION="us-east-1"
DISK_MIB=64
ESP_OFFSET=$((1024 * 1024))

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
log() { printf '[boot-aws] %s\n' "$*" >&2; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
        --efi) EFI="${2:?--efi needs a file}"; shift 2 ;;
        --steps) STEPS=1; shift ;;
        --bucket) BUCKET="${2:?--bucket needs a name}"; shift 2 ;;
        --region) REGION="${2:?--region needs a name}"; shift 2 ;;
        --qemu) QEMU=1; shift ;;
        --timeout) TIMEOUT="${2:?--timeout needs seconds}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "boot-aws: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

DISK="$OUT/cohesix-aws.raw"
mkdir -p "$OUT"

install_pkgs() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "boot-aws: missing packages; as root run: apt-get install -y $*" >&2
        exit 1
    fi
    log "installing $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# need TOOL:PACKAGE...: installs the packages of the tools that are missing.
need() {
    local missing=()
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
    done
    [[ ${#missing[@]} -eq 0 ]] || install_pkgs "${missing[@]}"
}

build_disk() {
    local efi=$1
    need sgdisk:gdisk mkfs.vfat:dosfstools mcopy:mtools
    rm -f "$DISK"
    truncate -s "${DISK_MIB}M" "$DISK"
    sgdisk --clear --new=1:2048:0 --typecode=1:EF00 --change-name=1:ESP "$DISK" >/dev/null
    local sectors
    sectors=$(sgdisk --info=1 "$DISK" | awk '/Partition size:/ {print $3}')
    # The FAT file system is made in place inside the partition (no loop device needed).
    mkfs.vfat -F 32 -n COHESIX --offset 2048 "$DISK" $((sectors / 2)) >/dev/null
    local esp="$DISK@@$ESP_OFFSET"
    mmd -i "$esp" ::EFI ::EFI/BOOT
    mcopy -i "$esp" "$efi" ::EFI/BOOT/BOOTAA64.EFI
    # UEFI shells fall back to startup.nsh when the boot entry is missing.
    printf 'FS0:\\EFI\\BOOT\\BOOTAA64.EFI\r\n' > "$OUT/startup.nsh"
    mcopy -i "$esp" "$OUT/startup.nsh" ::startup.nsh
    log "disk: $DISK ($(stat -c %s "$DISK") bytes)"
    mdir -/ -i "$esp" :: | sed 's/^/  | /'
}

print_steps() {
    local key
    key=$(basename "$DISK")
    cat <<STEPS
# AWS CLI steps for $DISK (region $REGION, bucket $BUCKET). Not run by this script.
# Prerequisite once per account: the 'vmimport' service role that VM Import/Export needs
# (see the VM Import/Export user guide, "Required service role").

aws s3 cp "$DISK" "s3://$BUCKET/$key" --region $REGION

aws ec2 import-snapshot --region $REGION --description "cohesix aws image" \\
    --disk-container "Format=RAW,UserBucket={S3Bucket=$BUCKET,S3Key=$key}"
# -> ImportTaskId; poll until Status is 'completed' and note the SnapshotId:
aws ec2 describe-import-snapshot-tasks --region $REGION --import-task-ids IMPORT_TASK_ID

aws ec2 register-image --region $REGION --name cohesix-aws-\$(date +%Y%m%d%H%M) \\
    --architecture arm64 --boot-mode uefi --ena-support --virtualization-type hvm \\
    --root-device-name /dev/xvda \\
    --block-device-mappings "DeviceName=/dev/xvda,Ebs={SnapshotId=SNAPSHOT_ID,VolumeType=gp3,DeleteOnTermination=true}"
# -> ImageId

# A Graviton instance (Nitro: ENA, UEFI); the provisioning blob goes in as user data.
aws ec2 run-instances --region $REGION --image-id IMAGE_ID --instance-type t4g.small \\
    --user-data fileb://provision.blob --subnet-id SUBNET_ID --security-group-ids SG_ID
# Serial output (banner and prompt) without a login:
aws ec2 get-console-output --region $REGION --instance-id INSTANCE_ID --latest --output text
STEPS
}

find_uefi_firmware() {
    need qemu-system-aarch64:qemu-system-arm
    local fw=/usr/share/qemu-efi-aarch64/QEMU_EFI.fd
    [[ -f $fw ]] || install_pkgs qemu-efi-aarch64
    [[ -f $fw ]] || { echo "boot-aws: no $fw" >&2; exit 1; }
    echo "$fw"
}

qemu_boot() {
    local fw log_file="$OUT/qemu-uefi.log"
    fw=$(find_uefi_firmware)
    # Writable copies: the firmware image is padded to the 64 MiB flash QEMU expects.
    cp "$fw" "$OUT/flash0.img"
    truncate -s 64M "$OUT/flash0.img"
    truncate -s 64M "$OUT/flash1.img"
    : > "$log_file"
    qemu-system-aarch64 -M virt -cpu cortex-a72 -m 1024 -nographic -no-reboot -nic none \
        -drive if=pflash,format=raw,file="$OUT/flash0.img" \
        -drive if=pflash,format=raw,file="$OUT/flash1.img" \
        -drive if=virtio,format=raw,file="$DISK" \
        -serial "file:$log_file" -monitor none -display none &
    local pid=$!
    sleep "$TIMEOUT"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    log "serial output ($log_file):"
    tr -d '\r' < "$log_file" | sed 's/\x1b\[[0-9;=?]*[a-zA-Z]//g' | grep -v '^\s*$' | tail -n 30 | sed 's/^/  | /'
    # The image's own lines: the banner and the prompt after ExitBootServices.
    if grep -q 'platform=aws' "$log_file" && grep -q 'cohesix> ' "$log_file"; then
        log "PASS: banner and prompt"
    else
        log "FAIL: no 'platform=aws' banner and 'cohesix> ' prompt"
        return 1
    fi
}

if [[ $STEPS == 1 ]]; then
    print_steps
    exit 0
fi

# The disk is always repacked from a fresh build (or the given --efi), so --qemu can never
# boot a disk left over from an older image.
if [[ -z "$EFI" ]]; then
    log "building the aws image"
    COHESIX_IMAGE_DIR="$OUT" "$ROOT/scripts/build-image.sh" --platform aws --quiet
    EFI="$OUT/cohesix-aws.efi"
fi
if [[ -n "$EFI" ]]; then
    [[ -f "$EFI" ]] || { echo "boot-aws: no UEFI application $EFI" >&2; exit 2; }
    build_disk "$EFI"
    log "next: scripts/boot-aws.sh --steps --bucket BUCKET --region REGION"
fi
if [[ $QEMU == 1 ]]; then
    qemu_boot
fi
