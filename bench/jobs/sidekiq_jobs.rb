# Sidekiq 6.4 side of bench/jobs: the same two jobs as the worker's maintenance plugin.
require 'net/http'
require 'sidekiq'

Sidekiq.configure_server do |c|
  c.redis = { url: ENV.fetch('REDIS_URL') }
  Sidekiq.logger.level = Logger::WARN # its fastest setting
end

class BenchNoop
  include Sidekiq::Worker
  def perform(*_args); end
end

# One HTTP call per job, as a typical Sidekiq job makes it.
class BenchHttp
  include Sidekiq::Worker
  URL = URI(ENV.fetch('BENCH_HTTP_URL'))
  def perform(*_args)
    res = Net::HTTP.get_response(URL)
    raise "HTTP #{res.code}" unless res.code == '200'
  end
end
