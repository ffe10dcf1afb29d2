#!/usr/bin/env bash
# One sitting of headstamp-recognizer runs that train while their strips are rendered (a machine with many cores
# and a GPU): WORKERS renderers write shards of 1,000 strips to a folder, each trainer adds them as they land
# (training.recognizer --watch); WORKERS (12), COUNT strips a shard (1000), DEVICE (cuda), BATCH (256) and
# WATCH_MIN strips before the first step (10000) may be set. Held out: the first 600 strips of seed 28, as for the CPU runs.
#
#   training/watched_sitting.sh OUT FIRST_SEED MINUTES STOP_AFTER [--resume] -- NAME INIT LR [WIDTH ARGS] -- ...
#
# Each "-- NAME INIT LR [ARGS]" is one trainer, writing OUT/NAME (bundle) and OUT/NAME/checkpoint.pt; INIT is a
# bundle's weights.pt. Renderer seeds run from FIRST_SEED up; the recipes cycle as in the CPU shards (seeds 24,
# 25, 28, 29): soft crops and 10 % forced Persian, twice; 40 % forced Persian; 10 % forced Persian.
set -euo pipefail
out=$1 first=$2 minutes=$3 stop=$4
shift 4
resume=""
if [[ ${1:-} == --resume ]]; then resume=--resume; shift; fi
workers=${WORKERS:-12} device=${DEVICE:-cuda} batch=${BATCH:-256} count=${COUNT:-1000} watch_min=${WATCH_MIN:-10000}
export count
work=$(mktemp -d)  # the sitting's own: watched shards in chunks/, the held-out shard beside them
chunks=$work/chunks val=$work/val28.npz
mkdir -p "$chunks" "$out"

render() {  # render SEED DIR
    local extra
    case $(( $1 % 4 )) in
        0|1) extra="--soft 0.35 --persian 0.1" ;;
        2) extra="--persian 0.4" ;;
        *) extra="--persian 0.1" ;;
    esac
    python -m training.make_strips --seed "$1" --count "$count" --size 48 384 $extra --out "$2/c$1.npz" 2>>"$2/../render_errors.log"
}
export -f render
python -m training.make_strips --seed 28 --count 600 --persian 0.1 --size 48 384 --soft 0.35 --out "$val" &
valpid=$!
seq "$first" $(( first + 9999 )) | xargs -P "$workers" -I{} bash -c "render {} $chunks" &
renderers=$!
# the renderers end with the sitting, however it ends
trap 'kill $renderers 2>/dev/null || true; pkill -f "training.make_strips.*$chunks" || true' EXIT
wait $valpid

pids=()
while [[ ${1:-} == -- ]]; do
    shift
    name=$1 init=$2 lr=$3
    shift 3
    args=()
    while [[ $# -gt 0 && $1 != -- ]]; do args+=("$1"); shift; done
    python -m training.recognizer --shards "$val" --val 600 --watch "$chunks" --device "$device" --batch "$batch" \
        --watch-min "$watch_min" \
        --threads 2 --size 48 384 --minutes "$minutes" --stop-after "$stop" --checkpoint "$out/$name/checkpoint.pt" \
        $resume --checkpoint-every 2 --lr "$lr" --init "$init" --out "$out/$name" "${args[@]}" \
        > "$out/$name.log" 2>&1 &
    pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
echo "strips rendered: $(( $(ls "$chunks" | grep -c 'npz$') * count ))"
exit $status
