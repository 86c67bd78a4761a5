// ck_inference_host: a stand-in for Nuke's Inference node, to prove an exported .pt the way Nuke runs it.
//
// Nuke's node is C++: it loads the TorchScript file with libtorch, sets the .cat's custom knob values as
// module attributes, moves module and input to the GPU (and to half precision with "Optimize for Speed and
// Memory") and calls forward on a [1, C, H, W] tensor. Python tests of the same file can pass while this
// path fails, so this program repeats it with no Python anywhere.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

// The device-generic allocator statistics (c10::getDeviceAllocator) arrived in torch 2.9; the header itself is
// older (Nuke 16/17's 2.7 has it without that function), so both are checked. Older libtorch: VRAM unknown.
#if __has_include(<c10/core/CachingDeviceAllocator.h>) && \
    (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9))
#include <c10/core/CachingDeviceAllocator.h>
#define CK_HAS_DEVICE_ALLOCATOR_STATS 1
#endif

#if defined(__linux__) || defined(__APPLE__)
#include <sys/resource.h>
#endif

#include "knobs.hpp"
#include "npy.hpp"

namespace {

// Exit codes: each failure class has its own, so scripts and tests can tell them apart.
enum Exit : int {
  kOk = 0,
  kInternal = 1,
  kUsage = 2,       // bad command line or knob setting
  kFile = 3,        // input/output tensor file missing, malformed or of the wrong shape
  kModel = 4,       // model file missing or not loadable TorchScript
  kDevice = 5,      // requested device not available
  kForward = 6,     // forward raised, or its output breaks the Inference node's contract
};

struct Failure {
  int code;
  std::string message;
};

const char kUsageText[] =
    "usage: ck_inference_host MODEL.pt --input IN.npy --output OUT.npy [options] [KNOB=VALUE ...]\n"
    "\n"
    "Runs a TorchScript model the way Nuke's Inference node does: load, set knob attributes,\n"
    "move to device/precision, forward one [1, C, H, W] float tensor.\n"
    "\n"
    "options:\n"
    "  --input PATH        input tensor, float32 .npy of shape [1, C_in, H, W] (numpy.save)\n"
    "  --output PATH       output tensor, written as float32 .npy (replaced atomically)\n"
    "  --device cpu|cuda   device, like 'Use GPU if available' (cuda or cuda:N); default cpu\n"
    "  --half              half precision, like 'Optimize for Speed and Memory'\n"
    "  --channels-in N     channels the .cat feeds in (default 4)\n"
    "  --channels-out N    channels the .cat expects out (default 4)\n"
    "  --scale S           the .cat's output scale (default 1)\n"
    "  --runs N            timed forward runs (default 1); the output is that of the last\n"
    "  --warmup N          untimed forward runs first (default 0)\n"
    "  --threads N         CPU threads for libtorch (default: libtorch's choice)\n"
    "  --json              print one JSON object (timings, memory, knobs) instead of the text report\n"
    "  -h, --help          this text\n"
    "\n"
    "knobs: NAME=VALUE sends the kind that matches the module attribute (float or int);\n"
    "       NAME:float=V, NAME:int=V, NAME:enum=V, NAME:bool=0|1 send exactly that Nuke knob kind\n"
    "       (Float_Knob -> float attribute; Int/Enumeration/Bool_Knob -> int attribute).\n"
    "\n"
    "exit codes: 0 ok, 1 internal, 2 usage/knob, 3 tensor file, 4 model file, 5 device, 6 forward/output\n";

struct Options {
  std::string model;
  std::string input;
  std::string output;
  std::string device = "cpu";
  bool half = false;
  int64_t channels_in = 4;
  int64_t channels_out = 4;
  int64_t scale = 1;
  int runs = 1;
  int warmup = 0;
  int threads = 0;
  bool json = false;
  std::vector<ck::KnobSetting> knobs;
};

int64_t parse_count(const std::string& flag, const std::string& text, int64_t minimum) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < minimum) {
    throw Failure{kUsage, flag + " needs an integer >= " + std::to_string(minimum) + ", got '" + text + "'"};
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options options;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw Failure{kUsage, arg + " needs a value"};
      return args[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsageText;
      std::exit(kOk);
    } else if (arg == "--input") {
      options.input = value();
    } else if (arg == "--output") {
      options.output = value();
    } else if (arg == "--device") {
      options.device = value();
    } else if (arg == "--half") {
      options.half = true;
    } else if (arg == "--channels-in") {
      options.channels_in = parse_count(arg, value(), 1);
    } else if (arg == "--channels-out") {
      options.channels_out = parse_count(arg, value(), 1);
    } else if (arg == "--scale") {
      options.scale = parse_count(arg, value(), 1);
    } else if (arg == "--runs") {
      options.runs = static_cast<int>(parse_count(arg, value(), 1));
    } else if (arg == "--warmup") {
      options.warmup = static_cast<int>(parse_count(arg, value(), 0));
    } else if (arg == "--threads") {
      options.threads = static_cast<int>(parse_count(arg, value(), 1));
    } else if (arg == "--json") {
      options.json = true;
    } else if (ck::is_knob_argument(arg)) {
      try {
        options.knobs.push_back(ck::parse_knob_argument(arg));
      } catch (const ck::KnobError& error) {
        throw Failure{kUsage, error.what()};
      }
    } else if (!arg.empty() && arg[0] == '-') {
      throw Failure{kUsage, "unknown option " + arg + " (see --help)"};
    } else if (options.model.empty()) {
      options.model = arg;
    } else {
      throw Failure{kUsage, "unexpected argument '" + arg + "': one model file only; knobs are NAME=VALUE"};
    }
  }
  if (options.model.empty()) throw Failure{kUsage, "no model file given (see --help)"};
  if (options.input.empty()) throw Failure{kUsage, "--input IN.npy is required"};
  if (options.output.empty()) throw Failure{kUsage, "--output OUT.npy is required"};
  return options;
}

torch::Device pick_device(const std::string& name) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    throw Failure{kUsage, "--device must be cpu, cuda or cuda:N, got '" + name + "'"};
  }
  if (device.is_cuda()) {
    if (!torch::cuda::is_available()) {
      throw Failure{kDevice, "--device " + name + ": CUDA is not available to this libtorch (no GPU or driver, "
                                                  "or a CPU-only torch). Nuke would fall back to the CPU; run "
                                                  "with --device cpu"};
    }
    if (device.has_index() && device.index() >= torch::cuda::device_count()) {
      throw Failure{kDevice, "--device " + name + ": only " + std::to_string(torch::cuda::device_count()) +
                                 " CUDA device(s)"};
    }
  } else if (!device.is_cpu()) {
    throw Failure{kUsage, "--device must be cpu or cuda, got '" + name + "'"};
  }
  return device;
}

torch::jit::script::Module load_model(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Failure{kModel, "model file not found: " + path};
  }
  try {
    return torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& error) {
    throw Failure{kModel, "cannot load " + path + " as TorchScript with libtorch " + std::string(TORCH_VERSION) +
                              ". It must be a torch.jit.script/trace module saved with torch.jit.save, by a torch "
                              "no newer than this libtorch (Nuke has the same rule). libtorch said: " +
                              error.what_without_backtrace()};
  }
}

torch::Tensor read_input(const Options& options) {
  ck::FloatArray array;
  try {
    array = ck::read_npy(options.input);
  } catch (const ck::FileError& error) {
    throw Failure{kFile, error.what()};
  }
  const auto& s = array.shape;
  if (s.size() != 4 || s[0] != 1 || s[1] != options.channels_in || s[2] < 1 || s[3] < 1) {
    std::string shape;
    for (const auto v : s) shape += (shape.empty() ? "" : ", ") + std::to_string(v);
    throw Failure{kFile, "input tensor has shape [" + shape + "]; the Inference node passes [1, " +
                             std::to_string(options.channels_in) + ", H, W] (1 image, --channels-in channels)"};
  }
  return torch::from_blob(array.data.data(), s, torch::kFloat32).clone();
}

void check_output(const torch::Tensor& out, const torch::Tensor& in, const Options& options) {
  const std::vector<int64_t> expected = {1, options.channels_out, in.size(2) * options.scale,
                                         in.size(3) * options.scale};
  if (out.sizes().vec() != expected) {
    std::ostringstream message;
    message << "forward returned shape " << out.sizes() << ", the .cat promises " << c10::IntArrayRef(expected)
            << " (channels out " << options.channels_out << ", output scale " << options.scale << ")";
    throw Failure{kForward, message.str()};
  }
  if (!out.is_floating_point()) {
    throw Failure{kForward, "forward returned a " + std::string(c10::toString(out.scalar_type())) +
                                " tensor; Nuke needs floating point"};
  }
}

double peak_rss_mb() {
#if defined(__linux__) || defined(__APPLE__)
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
#if defined(__APPLE__)
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);
#else
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
#endif
#else
  return -1.0;
#endif
}

struct CudaMemory {
  bool known = false;
  double peak_allocated_mb = -1.0;
  double peak_reserved_mb = -1.0;
};

CudaMemory cuda_memory(const torch::Device& device) {
  CudaMemory memory;
#ifdef CK_HAS_DEVICE_ALLOCATOR_STATS
  if (device.is_cuda()) {
    const auto index = device.has_index() ? device.index() : static_cast<c10::DeviceIndex>(0);
    const auto stats = c10::getDeviceAllocator(c10::DeviceType::CUDA)->getDeviceStats(index);
    const auto aggregate = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    memory.known = true;
    memory.peak_allocated_mb = static_cast<double>(stats.allocated_bytes[aggregate].peak) / (1024.0 * 1024.0);
    memory.peak_reserved_mb = static_cast<double>(stats.reserved_bytes[aggregate].peak) / (1024.0 * 1024.0);
  }
#else
  (void)device;
#endif
  return memory;
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  if (options.threads > 0) at::set_num_threads(options.threads);
  const torch::Device device = pick_device(options.device);
  torch::Tensor input = read_input(options);

  auto start = std::chrono::steady_clock::now();
  torch::jit::script::Module module = load_model(options.model);
  const double load_s = seconds_since(start);

  std::vector<std::string> applied;
  try {
    applied = ck::apply_knobs(module, options.knobs);
  } catch (const ck::KnobError& error) {
    throw Failure{kUsage, error.what()};
  }

  torch::NoGradGuard no_grad;
  module.eval();
  start = std::chrono::steady_clock::now();
  try {
    module.to(device);
    if (options.half) module.to(torch::kHalf);
    input = input.to(device);
    if (options.half) input = input.to(torch::kHalf);
    if (device.is_cuda()) torch::cuda::synchronize();
  } catch (const c10::Error& error) {
    throw Failure{kDevice, std::string("moving the model to ") + options.device + (options.half ? " in half" : "") +
                               " failed: " + error.what_without_backtrace()};
  }
  const double to_device_s = seconds_since(start);

  std::vector<double> times;
  torch::Tensor output;
  for (int i = 0; i < options.warmup + options.runs; ++i) {
    start = std::chrono::steady_clock::now();
    c10::IValue result;
    try {
      result = module.forward({input});
      if (device.is_cuda()) torch::cuda::synchronize();
    } catch (const c10::Error& error) {
      throw Failure{kForward, std::string("forward failed on ") + options.device + (options.half ? " (half)" : "") +
                                  ": " + error.what_without_backtrace()};
    }
    if (i >= options.warmup) times.push_back(seconds_since(start));
    if (!result.isTensor()) {
      throw Failure{kForward, "forward returned " + result.tagKind() + "; the Inference node needs one tensor"};
    }
    output = result.toTensor();
  }
  check_output(output, input, options);
  const torch::Tensor host = output.to(torch::kCPU).to(torch::kFloat32).contiguous();
  const int64_t non_finite = host.numel() - host.isfinite().sum().item<int64_t>();
  try {
    ck::write_npy(options.output, host.sizes().vec(), host.data_ptr<float>());
  } catch (const ck::FileError& error) {
    throw Failure{kFile, error.what()};
  }

  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const CudaMemory memory = cuda_memory(device);
  const double rss = peak_rss_mb();

  if (options.json) {
    std::ostringstream out;
    out << "{\"libtorch\": " << json_string(TORCH_VERSION) << ", \"device\": " << json_string(device.str())
        << ", \"half\": " << (options.half ? "true" : "false") << ", \"shape\": [" << host.size(0) << ", "
        << host.size(1) << ", " << host.size(2) << ", " << host.size(3) << "], \"load_s\": " << load_s
        << ", \"to_device_s\": " << to_device_s << ", \"forward_s\": [";
    for (size_t i = 0; i < times.size(); ++i) out << (i ? ", " : "") << times[i];
    out << "], \"forward_s_median\": " << median << ", \"peak_rss_mb\": " << rss
        << ", \"cuda_peak_allocated_mb\": " << (memory.known ? memory.peak_allocated_mb : -1.0)
        << ", \"cuda_peak_reserved_mb\": " << (memory.known ? memory.peak_reserved_mb : -1.0)
        << ", \"non_finite\": " << non_finite << ", \"knobs\": [";
    for (size_t i = 0; i < applied.size(); ++i) out << (i ? ", " : "") << json_string(applied[i]);
    out << "]}";
    std::cout << out.str() << std::endl;
  } else {
    std::cout << "libtorch " << TORCH_VERSION << ", device " << device.str() << (options.half ? " (half)" : "")
              << "\n";
    for (const auto& line : applied) std::cout << "knob " << line << "\n";
    std::cout << "output " << host.sizes() << " -> " << options.output << "\n";
    std::cout << "load " << load_s << " s, to device " << to_device_s << " s, forward median " << median << " s over "
              << times.size() << " run(s)\n";
    std::cout << "peak RSS " << rss << " MB";
    if (memory.known) {
      std::cout << ", CUDA peak allocated " << memory.peak_allocated_mb << " MB, reserved "
                << memory.peak_reserved_mb << " MB";
    }
    std::cout << std::endl;
  }
  if (non_finite > 0) {
    std::cerr << "warning: the output holds " << non_finite << " non-finite value(s) (NaN/inf)" << std::endl;
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Failure& failure) {
    std::cerr << "error: " << failure.message << std::endl;
    return failure.code;
  } catch (const c10::Error& error) {
    std::cerr << "error: libtorch: " << error.what_without_backtrace() << std::endl;
    return kInternal;
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << std::endl;
    return kInternal;
  }
}
