# Drives the real Sidekiq (Debian's ruby-sidekiq) against our queues for test_sidekiq.py.
# Usage: REDIS_URL=redis://host:port/db ruby sidekiq_tool.rb COMMAND [ARGS]
#   push CLASS JSON_ARGS          -> prints the jid
#   push_bulk CLASS N             -> pushes args [[0, 1], [1, 1], ...], prints the jids
#   push_at CLASS JSON_ARGS SECS  -> scheduled SECS from now, prints the jid
#   stats                         -> prints Sidekiq's own view as JSON
#   quiet IDENTITY                -> Sidekiq::Process#quiet! on that process
require 'json'
require 'sidekiq'
require 'sidekiq/api'

$stderr.reopen(File::NULL) unless ENV['SIDEKIQ_TOOL_VERBOSE'] # ruby-redis deprecation noise
Sidekiq.configure_client { |c| c.redis = { url: ENV.fetch('REDIS_URL') } }

cmd = ARGV.shift
case cmd
when 'push'
  puts Sidekiq::Client.push('class' => ARGV[0], 'queue' => 'default', 'args' => JSON.parse(ARGV[1]))
when 'push_bulk'
  n = ARGV[1].to_i
  puts Sidekiq::Client.push_bulk('class' => ARGV[0], 'args' => (0...n).map { |i| [i, 1] }).to_json
when 'push_at'
  puts Sidekiq::Client.push('class' => ARGV[0], 'args' => JSON.parse(ARGV[1]),
                            'at' => Time.now.to_f + ARGV[2].to_f)
when 'stats'
  s = Sidekiq::Stats.new
  procs = Sidekiq::ProcessSet.new.map { |p| { 'identity' => p['identity'], 'busy' => p['busy'],
                                              'concurrency' => p['concurrency'],
                                              'queues' => p['queues'], 'quiet' => p['quiet'] } }
  dead = Sidekiq::DeadSet.new.map { |e| { 'klass' => e.klass, 'jid' => e.jid,
                                          'error' => e.item['error_message'] } }
  retries = Sidekiq::RetrySet.new.map { |e| { 'klass' => e.klass, 'jid' => e.jid,
                                              'retry_count' => e.item['retry_count'] } }
  puts JSON.generate('processed' => s.processed, 'failed' => s.failed, 'enqueued' => s.enqueued,
                     'scheduled' => s.scheduled_size, 'retry' => s.retry_size,
                     'dead' => s.dead_size, 'processes' => s.processes_size,
                     'queues' => s.queues, 'default_size' => Sidekiq::Queue.new('default').size,
                     'procs' => procs, 'dead_entries' => dead, 'retry_entries' => retries)
when 'quiet'
  p = Sidekiq::ProcessSet.new.find { |x| x['identity'] == ARGV[0] }
  abort "no process #{ARGV[0]}" unless p
  p.quiet!
  puts 'ok'
else
  abort "unknown command #{cmd}"
end
