//! What the `mnist` and `mnist_models` examples share: the command line, training with a
//! checkpoint, curves and test accuracy, and saliency maps. Each example names its networks;
//! a network costs several seconds of a clean build (its trainer, optimizer and checkpoint
//! code are instantiated for it), so the README's main job builds the seed CNN alone.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;
use typenet::data::augment::{Augment, RandomRotation, RandomShift};
use typenet::data::{Dataset, InputShape, Mnist};
use typenet::explain::{class_scores, integrated_gradients, vanilla_gradient, write_heatmap_png};
use typenet::prelude::*;
use typenet::train::{Classifier, TrainError};

/// The command line shared by `mnist` and `mnist_models`.
pub struct Args {
    /// `--model`: which network, if given.
    pub model: Option<String>,
    data: PathBuf,
    epochs: Option<usize>,
    out: PathBuf,
    pub saliency: Option<PathBuf>,
    augment: bool,
}

pub fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        model: None,
        data: PathBuf::from(Mnist::SHIPPED_DIR),
        epochs: None,
        out: PathBuf::from("target/mnist"),
        saliency: None,
        augment: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--model" => args.model = Some(value()?),
            "--data" => args.data = value()?.into(),
            "--epochs" => {
                let epochs = value()?;
                let epochs = epochs
                    .parse()
                    .map_err(|_| format!("--epochs takes a number, not {epochs}"))?;
                args.epochs = Some(epochs);
            }
            "--out" => args.out = value()?.into(),
            "--saliency" => args.saliency = Some(value()?.into()),
            "--augment" => args.augment = true,
            _ => {
                return Err(format!(
                    "unknown argument {flag}; see the top of examples/mnist.rs or mnist_models.rs"
                ))
            }
        }
    }
    Ok(args)
}

/// Runs an example's body: an error is printed as a sentence (`main` returning it would
/// print its `Debug` form) and the process exits with 1.
pub fn report(result: Result<(), Box<dyn Error>>) {
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// How long to train and how fast the learning rate (2e-3 at first) decays per epoch.
pub struct Recipe {
    pub epochs: usize,
    pub decay: f64,
}

/// Writes saliency heat maps of a trained model for a few test digits into a directory.
pub type Explain<M> = fn(&M, &Cpu, &Dataset, &Path) -> Result<(), Box<dyn Error>>;

/// Trains `Net` on the digits `args` names with Adam and the recipe, checkpointing every
/// epoch; prints the summary, progress and test accuracy, writes the history as CSV and SVG
/// and, with `--saliency`, calls `explain`.
pub fn train<Net, In>(
    name: &str,
    recipe: Recipe,
    args: &Args,
    explain: Explain<Net::Built>,
) -> Result<(), Box<dyn Error>>
where
    Net: Network + BuildOnDevice<Cpu, f32>,
    Net::Built: Classifier<In, f32, Cpu, 10>,
    In: InputShape,
{
    let mnist = Mnist::load(&args.data)?;
    println!(
        "{name}: {} training and {} test digits from {}\n",
        mnist.train.len(),
        mnist.test.len(),
        args.data.display()
    );
    println!("{}\n", Net::summary());

    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Net, f32>();
    let adam = Adam::new(
        &model,
        AdamConfig {
            lr: 2e-3,
            ..Default::default()
        },
    );
    std::fs::create_dir_all(&args.out).map_err(|source| TrainError::Io {
        path: args.out.clone(),
        source,
    })?;
    let name = if args.augment {
        format!("{name}_augmented")
    } else {
        name.to_string()
    };
    let checkpoint = args.out.join(format!("{name}.safetensors"));

    let started = Instant::now();
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<In>()
        .epochs(args.epochs.unwrap_or(recipe.epochs))
        .batch_size(64)
        .lr_schedule(LrSchedule::ExponentialDecay { rate: recipe.decay })
        .checkpoint(ModelCheckpoint::every_epoch(&checkpoint));
    if args.augment {
        // Digits are not mirrored: a flipped 2 is no digit.
        trainer = trainer.augment(RandomShift::new(2).then(RandomRotation::degrees(10.0)));
    }
    let history = trainer.fit(&mnist.train)?;
    let test = trainer.evaluate(&mnist.test)?;
    let seconds = started.elapsed().as_secs_f64();

    let curves = args.out.join(format!("{name}.svg"));
    history.write_csv(args.out.join(format!("{name}.csv")))?;
    history.plot_svg(&curves)?;
    let best = history
        .epochs
        .iter()
        .map(|e| e.samples_per_sec)
        .fold(0.0, f64::max);
    println!(
        "\n{name}: test accuracy {:.2}% (loss {:.4}) on {} digits after {} epochs; \
         {seconds:.1} s in all, best epoch {best:.0} samples/s",
        test.accuracy * 100.0,
        test.loss,
        mnist.test.len(),
        history.epochs.len(),
    );
    println!(
        "checkpoint: {}\ncurves: {}",
        checkpoint.display(),
        curves.display()
    );
    if let Some(dir) = &args.saliency {
        explain(&model, &dev, &mnist.test, dir)?;
    }
    Ok(())
}

/// How many test digits `--saliency` explains, the integration steps, the heat maps' pixel size.
const EXPLAINED: usize = 4;
const STEPS: usize = 64;
const SCALE: u32 = 8;

/// Saliency and integrated gradients of the predicted class for the first test digits,
/// drawn as heat maps; prints each digit's prediction and integrated gradients'
/// completeness (attributions add up to the score's change from a black image).
pub fn write_saliency<In, M>(
    model: &M,
    dev: &Cpu,
    test: &Dataset,
    dir: &Path,
) -> Result<(), Box<dyn Error>>
where
    In: InputShape,
    M: Module<Tensor<In::Batched, f32, Cpu>, Output = Tensor<(usize, Const<10>), f32, Cpu>>
        + Module<
            Tensor<In::Batched, f32, Cpu, OwnedTape<f32, Cpu>>,
            Output = Tensor<(usize, Const<10>), f32, Cpu, OwnedTape<f32, Cpu>>,
        >,
{
    let digits = test.take(EXPLAINED);
    let x = In::tensor(dev, digits.samples().as_slice().to_vec())?;
    let predicted: Vec<usize> = model
        .try_forward(x.clone())
        .map_err(|e| format!("{e:?}"))?
        .as_vec()
        .chunks(10)
        .map(|row| (0..10).fold(0, |best, c| if row[c] > row[best] { c } else { best }))
        .collect();
    let started = Instant::now();
    let saliency = vanilla_gradient(model, &x, &predicted)?;
    let attributions = integrated_gradients(model, &x, &predicted, None, STEPS)?;
    let seconds = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(dir)?;
    let (vanilla_png, ig_png) = (
        dir.join("vanilla_gradient.png"),
        dir.join("integrated_gradients.png"),
    );
    write_heatmap_png(&vanilla_png, &x, &saliency, SCALE)?;
    write_heatmap_png(&ig_png, &x, &attributions, SCALE)?;

    let scores = class_scores(model, &x, &predicted)?;
    let black = class_scores(model, &dev.zeros_like(&x), &predicted)?;
    println!(
        "\nsaliency of the predicted class for {EXPLAINED} test digits (left to right), \
         {seconds:.2} s for both methods:"
    );
    let per_digit = attributions.as_vec().len() / EXPLAINED;
    for (i, summed) in attributions.as_vec().chunks(per_digit).enumerate() {
        println!(
            "  digit {i}: label {}, predicted {} (logit {:.3}); integrated gradients ({STEPS} steps) add up to {:.3}, the logit minus its value on a black image is {:.3}",
            digits.labels()[i],
            predicted[i],
            scores[i],
            summed.iter().sum::<f32>(),
            scores[i] - black[i],
        );
    }
    println!(
        "heat maps: {}\n           {}",
        vanilla_png.display(),
        ig_png.display()
    );
    Ok(())
}
