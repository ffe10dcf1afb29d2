#!/usr/bin/env bash
# One sitting of recognizer runs that train while their strips are rendered (a machine with many cores and a
# GPU): WORKERS renderers write shards into a folder, each trainer adds them as they land (--watch).
#
#   training/watched_sitting.sh KIND OUT FIRST_SEED MINUTES STOP_AFTER [--resume] -- NAME INIT LR [ARGS] -- ...
#
# KIND: headstamps (training.recognizer; shards of COUNT strips, default 1000; held out: the first 600 strips of
# seed 28, as for the CPU runs; renderer recipes cycle as in the CPU shards of seeds 24, 25, 28, 29: soft crops and
# 10 % forced Persian, twice; 40 % forced Persian; 10 % forced Persian; HS_MORE_FONTS (0) of the strips stamped in
# Roboto, make_strips --more-fonts, as for headstamp recognizer v21) or lots (training.lot_recognizer --turned
# 0.15; shards of COUNT markings, default 150, about 600 lines; held out: the first 600 lines of seed 65, as for
# lot recognizers v13-v15; every scene as seeds 65 and 66: 30 % circled lots, 40 % in a wider frame, 30 % with a
# faded end, 20 % cropped close; even seeds cut where the shipped line detector finds the lines, odd seeds from
# jittered true quads; LOT_SOFT (0.3) of the training photos softened, make_lot_data --soft, as for v16, and
# LOT_GLYPH_CUT (0.3) of the rest not in a wider frame cut through their outermost glyphs, as for v18, and
# LOT_VARIED (0.7) of the scenes with composed nomenclature and other lines, make_lot_data --varied, as for v20;
# LOT_MORE_FONTS (0) of the scenes in the wider type, make_lot_data --more-fonts, as for v24).
# RECIPE=current (the default since stop 40) renders instead the mixes of the latest CPU shards: headstamp strips
# cycle through those of seeds 50-55 (headstamp recognizer v26's fine-tunes) and lots through those of seeds 93-97
# (lot recognizer v29), held out the first 600 lines of seed 93 as for v29; RECIPE=v20 gives the recipes above.
# Each "-- NAME INIT LR [ARGS]" is one trainer, writing OUT/NAME (bundle) and
# OUT/NAME/checkpoint.pt; INIT is a bundle's weights.pt; ARGS go to the trainer (e.g. --channels ... --hidden ...).
# Renderer seeds run from FIRST_SEED up. WORKERS (12), COUNT, DEVICE (cuda), BATCH (256), WATCH_MIN training
# strips before the first step (10000), THREADS per trainer (2) and RENDER_NICE (0; renderers yield the CPU to the
# trainers when it is higher) may be set.
set -euo pipefail
kind=$1 out=$2 first=$3 minutes=$4 stop=$5
shift 5
resume=""
if [[ ${1:-} == --resume ]]; then resume=--resume; shift; fi
workers=${WORKERS:-12} device=${DEVICE:-cuda} batch=${BATCH:-256} watch_min=${WATCH_MIN:-10000}
threads=${THREADS:-2} render_nice=${RENDER_NICE:-0} recipe=${RECIPE:-current}
[[ $recipe == current || $recipe == v20 ]] || { echo "RECIPE is current or v20, not $recipe" >&2; exit 2; }
work=$(mktemp -d)  # the sitting's own: watched shards in chunks/, the held-out shard beside them
chunks=$work/chunks
mkdir -p "$chunks" "$out"

hs_more_fonts=${HS_MORE_FONTS:-0}  # share of the strips stamped in Roboto (0 draws nothing: the v20 recipe)
render_headstamps() {  # SEED DIR
    local extra
    if [[ $recipe == current ]]; then  # seeds 50-55 (cache/hs/s50.npz ...), in turn
        case $(( $1 % 6 )) in
            0) extra="--persian 0.1 --soft 0.35 --more-fonts 0.3" ;;
            1) extra="--persian 0.2 --more-fonts 0.3" ;;
            2) extra="--persian 0.1 --soft 0.35 --more-fonts 0.4" ;;
            3) extra="--persian 0.3 --more-fonts 0.3" ;;
            4) extra="--persian 0.1 --soft 0.35 --more-fonts 0.5" ;;
            *) extra="--persian 0.2 --more-fonts 0.2" ;;
        esac
    else
        case $(( $1 % 4 )) in
            0|1) extra="--soft 0.35 --persian 0.1" ;;
            2) extra="--persian 0.4" ;;
            *) extra="--persian 0.1" ;;
        esac
        extra+=" --more-fonts $hs_more_fonts"
    fi
    nice -n "$render_nice" python -m training.make_strips --seed "$1" --count "$count" --size 48 384 $extra \
        --out "$2/c$1.npz"
}
lot_scenes="--circled 0.3 --in-frame 0.4 --faded 0.3 --close 0.2 --lines-only"
lot_soft=${LOT_SOFT:-0.3}  # share of the training photos softened (the held-out lines are not)
lot_glyph_cut=${LOT_GLYPH_CUT:-0.3}  # ... and of those not in a wider frame, cut through their outermost glyphs
lot_varied=${LOT_VARIED:-0.7}  # share of the training scenes with composed nomenclature and other lines
lot_more_fonts=${LOT_MORE_FONTS:-0}  # share of the training scenes in the wider type (0 draws nothing)
lot_mix_93="--circled 0.3 --in-frame 0.4 --faded 0.2 --close 0.2 --soft 0.6 --detected --lines-only"
render_lots() {  # SEED DIR
    local args
    if [[ $recipe == current ]]; then  # seeds 93-97 (cache/lots_93 ...), in turn
        case $(( $1 % 5 )) in
            0) args=$lot_mix_93 ;;
            1) args="--more-fonts 0.8 --circled 0.3 --whole-circle 0.5 --in-frame 0.2 --faded 0.2 --glyph-cut 0.4
                     --soft 0.3 --varied 0.5 --detected --lines-only" ;;
            2) args="--more-fonts 0.8 --circled 0.3 --whole-circle 0.5 --in-frame 0.3 --faded 0.2 --glyph-cut 0.4
                     --soft 0.3 --varied 0.5 --lines-only" ;;
            3) args="--more-fonts 0.6 --circled 0.4 --whole-circle 0.6 --in-frame 0.2 --faded 0.2 --glyph-cut 0.4
                     --soft 0.3 --varied 0.5 --detected --lines-only" ;;
            *) args="--more-fonts 0.6 --circled 0.4 --whole-circle 0.6 --in-frame 0.3 --faded 0.2 --glyph-cut 0.4
                     --soft 0.3 --varied 0.5 --loose 0.3 --lines-only" ;;
        esac
    else
        args="$lot_scenes --soft $lot_soft --glyph-cut $lot_glyph_cut --varied $lot_varied --more-fonts $lot_more_fonts"
        (( $1 % 2 == 0 )) && args+=" --detected"
    fi
    nice -n "$render_nice" python -m training.make_lot_data --seed "$1" --count "$count" $args --out "$2/c$1"
}
case $kind in
    headstamps)
        count=${COUNT:-1000} unit=strips val=$work/val28.npz
        python -m training.make_strips --seed 28 --count 600 --persian 0.1 --size 48 384 --soft 0.35 --out "$val" &
        trainer=(python -m training.recognizer --shards "$val" --size 48 384) ;;
    lots)
        count=${COUNT:-150} unit=markings
        if [[ $recipe == current ]]; then
            val=$work/val93/lines.npz
            python -m training.make_lot_data --seed 93 --count 200 $lot_mix_93 --out "$work/val93" &
        else
            val=$work/val65/lines.npz
            python -m training.make_lot_data --seed 65 --count 160 $lot_scenes --detected --out "$work/val65" &
        fi
        trainer=(python -m training.lot_recognizer --shards "$val" --turned 0.15) ;;
    *) echo "KIND is headstamps or lots, not $kind" >&2; exit 2 ;;
esac
valpid=$!
export count recipe render_nice lot_scenes lot_soft lot_glyph_cut lot_varied lot_more_fonts lot_mix_93 \
    hs_more_fonts
export -f "render_$kind"
seq "$first" $(( first + 9999 )) \
    | xargs -P "$workers" -I{} bash -c "render_$kind {} $chunks 2>>$work/render_errors.log" &
renderers=$!
# the renderers end with the sitting, however it ends
trap 'kill $renderers 2>/dev/null || true; pkill -f "training.make_.*$chunks" || true' EXIT
wait $valpid

pids=()
while [[ ${1:-} == -- ]]; do
    shift
    name=$1 init=$2 lr=$3
    shift 3
    args=()
    while [[ $# -gt 0 && $1 != -- ]]; do args+=("$1"); shift; done
    "${trainer[@]}" --val 600 --watch "$chunks" --device "$device" --batch "$batch" --watch-min "$watch_min" \
        --threads "$threads" --minutes "$minutes" --stop-after "$stop" --checkpoint "$out/$name/checkpoint.pt" \
        $resume --checkpoint-every 2 --lr "$lr" --init "$init" --out "$out/$name" "${args[@]}" \
        > "$out/$name.log" 2>&1 &
    pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
echo "shards rendered: $(find "$chunks" -name '*.npz' | wc -l), $count $unit each"
exit $status
