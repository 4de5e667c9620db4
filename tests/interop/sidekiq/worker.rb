# The job class real Sidekiq runs in the interop test (run.sh): checks that the arguments
# written by the C producer arrive intact and records each executed jid in a Redis list.
require 'sidekiq'

Sidekiq.configure_server do |_config|
  # Look at the "schedule" zset about every second instead of after 5-15 s, so the
  # scheduled job runs within the test's time limit.
  Sidekiq.options[:poll_interval_average] = 1
end

class PnInteropJob
  include Sidekiq::Worker

  def perform(index, kind, text, opts)
    ok = index.is_a?(Integer) && %w[now scheduled].include?(kind) &&
         text == "ünïcode \"q\"" && opts == { 'k' => 'v' }
    raise ArgumentError, "unexpected args #{[index, kind, text, opts].inspect}" unless ok

    Sidekiq.redis { |r| r.rpush('pn:interop:executed', jid) }
  end
end
