/**
 * Every custom layer mtl's models use. Loading a checkpoint imports this, so the layers
 * are registered for deserialization on purpose, never by the accident of another import.
 */
import './batch-norm';
import './conv1d';
import './conv2d';
import './dense';
import './cross-stitch';
import './text';
