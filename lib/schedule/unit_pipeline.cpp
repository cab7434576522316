#include "schedule/unit_pipeline.hpp"

namespace mdesync::schedule {

UnitPipeline::UnitPipeline(PullContext& ctx, parse::RecordEncoder& encoder, store::UnitWriter& writer,
                           MakeStream make_stream)
    : ctx_(ctx),
      encoder_(encoder),
      writer_(writer),
      make_stream_(std::move(make_stream)),
      batch_([&writer](std::string_view lines) { writer.write(lines); }) {}

void UnitPipeline::start() {
  writer_.begin();
  batch_.discard();
  encoder_.take_stats();  // what an earlier, failed attempt at this unit counted
  stream_ = make_stream_(batch_.lines());
}

void UnitPipeline::bytes(std::string_view chunk) {
  ctx_.throw_if_stopping();
  ctx_.advanced();
  stream_->feed(chunk);
  batch_.maybe_flush();
}

parse::UnitSummary UnitPipeline::end(parse::EncoderStats& stats) {
  auto summary = stream_->end();
  batch_.flush();
  stats = encoder_.take_stats();
  return summary;
}

}  // namespace mdesync::schedule
